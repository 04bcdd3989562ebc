import fc from 'fast-check';
import { assertProperty } from '../../support/property';
import { describe, expect, it } from 'vitest';
import { requestPathOf } from '../../../core/edge/run-edge-pipeline';
import { MAX_LOGGED_URI_CHARS, uriWithoutQuery } from '../../../core/http/uri-without-query';

// The general rule: uriWithoutQuery, then drop scheme and authority. The plain-URL fast path must agree with it.
function reference(url: string): string {
  const uri = uriWithoutQuery(url);
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*/.exec(uri);
  const path = scheme === null ? uri : uri.slice(scheme[0].length);
  return path === '' ? '/' : path;
}

describe('requestPathOf', () => {
  it.each([
    ['http://127.0.0.1:7071/api/hooks/github/hk-1', '/api/hooks/github/hk-1'],
    ['https://edge.example/api/hooks/slack/hk-2?token=abc#frag', '/api/hooks/slack/hk-2'],
    ['https://user:pw@edge.example/api/hooks/teams/hk-3', '/api/hooks/teams/hk-3'],
    ['http://host/api/hooks/standard/hk;jsessionid=s3cr3t/x', '/api/hooks/standard/hk;[REDACTED]/x'],
    ['http://host', '/'],
    ['/api/hooks/github/hk-1?code=1', '/api/hooks/github/hk-1'],
    [`http://host/${'a'.repeat(MAX_LOGGED_URI_CHARS)}`, reference(`http://host/${'a'.repeat(MAX_LOGGED_URI_CHARS)}`)],
  ])('%s → %s', (url, path) => {
    expect(requestPathOf(url)).toBe(path);
    expect(requestPathOf(url)).toBe(reference(url));
  });

  it('agrees with the general rule on arbitrary URLs (property)', () => {
    const piece = fc.constantFrom('http://', 'https://', 'h:', '//', '/', 'api', 'hooks', 'hk-1', '?', '#', ';', '@', ':', 'user',
      '%2F', 'x=1', '&', '.', '..', '\n', 'é', ' ');
    const url = fc.array(piece, { maxLength: 16 }).map((parts) => parts.join(''));
    assertProperty(fc.property(url, (u) => { expect(requestPathOf(u)).toBe(reference(u)); }), { numRuns: 3000 });
    assertProperty(fc.property(fc.string({ maxLength: 64 }), (s) => { expect(requestPathOf(`http://h${s}`)).toBe(reference(`http://h${s}`)); }), { numRuns: 2000 });
  });
});
