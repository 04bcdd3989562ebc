import { describe, expect, it } from 'vitest';
import { MAX_LOGGED_HEADER_CHARS, redactHeaders } from '../../../core/http/redact-headers';

const CANARY = 'kars-canary-7f3a9c';

describe('redactHeaders', () => {
  it('keeps allowlisted values and redacts every signature, auth and unknown header (fetch Headers input)', () => {
    const headers = new Headers({
      'Content-Type': 'application/json',
      'X-GitHub-Event': 'push',
      'X-GitHub-Delivery': 'd-1',
      'X-Hub-Signature-256': `sha256=${CANARY}`,
      'webhook-signature': `v1,${CANARY}`,
      'X-Slack-Signature': `v0=${CANARY}`,
      Authorization: `HMAC ${CANARY}`,
      Cookie: `s=${CANARY}`,
      'x-functions-key': CANARY,
      'X-Custom': CANARY,
    });
    const out = redactHeaders(headers);
    expect({ ...out }).toEqual({
      'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'd-1',
      'x-hub-signature-256': '[REDACTED]', 'webhook-signature': '[REDACTED]', 'x-slack-signature': '[REDACTED]',
      authorization: '[REDACTED]', cookie: '[REDACTED]', 'x-functions-key': '[REDACTED]', 'x-custom': '[REDACTED]',
    });
    expect(JSON.stringify(out)).not.toContain(CANARY);
  });

  it('accepts a Node-style record with array values and a custom allowlist', () => {
    const out = redactHeaders({ 'X-A': ['1', '2'], 'X-B': 'secret', 'X-C': undefined }, new Set(['x-a']));
    expect({ ...out }).toEqual({ 'x-a': '1, 2', 'x-b': '[REDACTED]' });
  });

  it('neutralises control characters and cuts long allowlisted values', () => {
    const out = redactHeaders({ 'User-Agent': `ua\r\nx-injected: 1${'z'.repeat(1000)}` });
    expect(out['user-agent']).not.toMatch(/[\r\n]/);
    expect(out['user-agent']!.length).toBe(MAX_LOGGED_HEADER_CHARS + 1);
  });

  it('treats a header named __proto__ as a plain key', () => {
    const out = redactHeaders([['__proto__', CANARY]]);
    expect(Object.getPrototypeOf(out)).toBe(null);
    expect(out['__proto__']).toBe('[REDACTED]');
  });
});
