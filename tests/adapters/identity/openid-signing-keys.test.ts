// The JWKS of the identity provider is fetched on first use and again for an unknown kid, at most once per refresh
// interval: a flood of forged kids cannot become a flood of fetches (real HTTPS server with the dev CA).
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenIdSigningKeys } from '../../../adapters/identity/openid-signing-keys';
import { ensureDevTls } from '../../../infra/local/tls/dev-tls';
import { settableClock } from '../../core/edge/edge-fixture';

describe('createOpenIdSigningKeys', () => {
  let server: Server;
  let url = '';
  let ca = '';
  let fetches = 0;
  const jwk = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' };
  beforeAll(async () => {
    const tls = await ensureDevTls();
    ca = tls.caCertPem;
    server = createServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk, { kty: 'oct', kid: 'hmac', k: 'AAAA' }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/t/discovery/v2.0/keys`;
  });
  afterAll(async () => { await new Promise<void>((r) => server.close(() => r())); });

  it('fetches once for known keys, refreshes for an unknown kid at most once per interval, and ignores non-RSA keys', async () => {
    const clock = settableClock();
    const keys = createOpenIdSigningKeys({ jwksUrl: url, clock, caCertPem: ca, minRefreshMs: 60_000 });
    expect(await keys.keyFor('k1')).toBeDefined();
    expect(await keys.keyFor('k1')).toBeDefined();
    expect(fetches).toBe(1);
    expect(await keys.keyFor('hmac')).toBeUndefined();
    for (let i = 0; i < 50; i += 1) expect(await keys.keyFor(`forged-${i}`)).toBeUndefined();
    expect(fetches).toBe(1);
    clock.advance(60_000);
    expect(await keys.keyFor('rolled-key')).toBeUndefined();
    expect(fetches).toBe(2);
  });

  it('refuses a JWKS URL that is not https', () => {
    expect(() => createOpenIdSigningKeys({ jwksUrl: 'http://127.0.0.1/keys', clock: settableClock() })).toThrow(/https/);
  });
});
