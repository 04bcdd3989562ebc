import fc from 'fast-check';
import { assertProperty } from '../../support/property';
import { describe, expect, it } from 'vitest';
import { findQueryCredentials, hasQueryCredential } from '../../../core/http/query-credentials';

const BASE = 'https://kars.example/api/hooks/github/h1';

describe('findQueryCredentials', () => {
  it.each([
    'code', 'token', 'key', 'sig', 'signature', 'access_token', 'api_key', 'apikey', 'secret', 'password', 'client_secret',
    'auth', 'jwt', 'sas', 'Access-Token', 'ACCESS_TOKEN', 'accessToken', 'api.key', 'X-Functions-Key', 'subscription-key',
  ])('flags the parameter name %j', (name) => {
    expect(findQueryCredentials(`${BASE}?${name}=CANARY`)).toEqual([{ rule: expect.any(String), via: 'name' }]);
  });

  it.each([
    ['percent-encoded letters', '%74oken'],
    ['percent-encoded whole name', '%61%63%63%65%73%73%5F%74%6F%6B%65%6E'],
    ['double-encoded', '%2574oken'],
    ['plus as separator', 'api+key'],
    ['full-width letters (NFKC)', '%EF%BD%94%EF%BD%8F%EF%BD%8B%EF%BD%85%EF%BD%8E'],
    ['array suffix', 'token[]'],
    ['nested key', 'auth[password]'],
    ['suffix rule', 'github_token'],
    ['suffix rule (key)', 'hostkey'],
    ['name without value', 'secret'],
  ])('flags %s (%j)', (_n, name) => {
    expect(hasQueryCredential(`${BASE}?a=1&${name}=x`)).toBe(true);
  });

  it('flags an Azure SAS query (sv … sig=) and each credential parameter once', () => {
    const sas = `${BASE}?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=abc%2Bdef%3D`;
    expect(findQueryCredentials(sas).map((f) => f.rule)).toEqual(['sv', 'se', 'sig']);
    // A SAS whose signature was split off still gives itself away by its version and expiry.
    expect(findQueryCredentials(`${BASE}?sv=2022-11-02&se=2030-01-01`).map((f) => f.rule)).toEqual(['sv', 'se']);
    expect(findQueryCredentials(`${BASE}?code=a;token=b&x=1`).map((f) => f.rule)).toEqual(['code', 'token']);
  });

  it.each([
    ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig'],
    ['a bearer value', 'Bearer abc'],
    ['a whsec_ secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['a GitHub token', `ghp_${'a'.repeat(36)}`],
    ['a Slack token', 'xoxb-123456789012-abcdef'],
    ['an sk- key', `sk-${'A'.repeat(32)}`],
    ['an AWS access key id', 'AKIAIOSFODNN7EXAMPLE'],
  ])('flags %s under an innocent name', (_n, value) => {
    expect(findQueryCredentials(`${BASE}?q=${encodeURIComponent(value)}`)).toEqual([{ rule: expect.any(String), via: 'value' }]);
  });

  it.each([
    BASE, `${BASE}?`, `${BASE}?page=2&sort=asc`, `${BASE}?zipcode=12345`, `${BASE}#token=x`, `${BASE}?a=1#code=x`,
    `${BASE}?q=%E0%A4%A`, '/api/hooks/slack/h2?retry=1',
  ])('does not flag %j', (url) => {
    expect(findQueryCredentials(url)).toEqual([]);
  });

  it('never returns the raw name or value (property: findings hold only rule names)', () => {
    assertProperty(
      fc.property(fc.string({ minLength: 8, maxLength: 40 }), (canary) => {
        const findings = findQueryCredentials(`${BASE}?token=${encodeURIComponent(canary)}&${encodeURIComponent(canary)}_secret=1`);
        expect(JSON.stringify(findings)).not.toContain(canary);
      }),
    );
  });

  it('never throws on arbitrary input (property)', () => {
    assertProperty(fc.property(fc.string({ maxLength: 200 }), (s) => {
      expect(Array.isArray(findQueryCredentials(`${BASE}?${s}`))).toBe(true);
    }));
  });

  it('throws TypeError for a non-string', () => {
    expect(() => findQueryCredentials(undefined as never)).toThrow(TypeError);
  });
});
