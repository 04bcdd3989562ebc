// The model-upstream agent's functional side (T3-T, T3-S): mTLS to an upstream that requires a client certificate,
// redirects not followed, pins validated at startup, and the client key kept out of the agent's pool names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KarsError } from '../../../../core/errors';
import { isRedirectStatus } from '../../../../core/router/upstream/redirect-policy';
import { parseSpkiPins } from '../../../../core/router/upstream/spki-pins';
import { redact } from '../../../../core/secrets/redacted';
import { ensureDevTls, type DevTls } from '../../../../infra/local/tls/dev-tls';
import { createUpstreamAgent, upstreamTlsErrorCode } from '../../../../sandbox-node/router/egress/upstream-agent';
import { settledCode } from '../../../support/settled-code';
import { clientPki } from '../../../support/test-certs';
import { getThrough, startTlsUpstream, type TlsUpstream } from '../../../support/tls-upstream';

let dev: DevTls;
let pki: Awaited<ReturnType<typeof clientPki>>;
let mtls: TlsUpstream;
let redirecting: TlsUpstream;

beforeAll(async () => {
  dev = await ensureDevTls();
  pki = await clientPki();
  [mtls, redirecting] = await Promise.all([
    startTlsUpstream({ cert: dev.certPem, key: dev.keyPem, requestCert: true, rejectUnauthorized: true, ca: pki.caPem }, 'mtls-ok'),
    startTlsUpstream({ cert: dev.certPem, key: dev.keyPem }, '', 307, { location: 'https://evil.example.net/v1/models' }),
  ]);
});
afterAll(async () => { await Promise.all([mtls.close(), redirecting.close()]); });

describe('createUpstreamAgent', () => {
  it('mTLS: without the client certificate the handshake fails; with it the upstream answers', async () => {
    const plain = createUpstreamAgent({ endpoints: [{ host: 'localhost', port: mtls.port }], keepAlive: false });
    const without = await getThrough(plain, 'localhost', mtls.port);
    expect(without.status).toBeUndefined();
    expect(mtls.hits()).toBe(0);
    const withCert = createUpstreamAgent({
      endpoints: [{ host: 'localhost', port: mtls.port }], keepAlive: false,
      clientCertificate: { certPem: pki.client.certPem, keyPem: redact(pki.client.keyPem) },
    });
    expect(await getThrough(withCert, 'localhost', mtls.port)).toEqual({ status: 200, body: 'mtls-ok' });
    // The key is not folded into the agent's socket-pool names or options.
    expect(JSON.stringify(Object.keys(withCert.sockets)) + JSON.stringify(withCert.options)).not.toContain('PRIVATE KEY');
  });

  it('a redirect comes back as a 3xx for the proxy to refuse; its Location is never requested', async () => {
    const agent = createUpstreamAgent({ endpoints: [{ host: 'localhost', port: redirecting.port }], keepAlive: false });
    const r = await getThrough(agent, 'localhost', redirecting.port);
    expect(r.status).toBe(307);
    expect(isRedirectStatus(r.status!)).toBe(true);
    expect(redirecting.hits()).toBe(1);
    expect([301, 302, 303, 307, 308].every(isRedirectStatus)).toBe(true);
    expect([200, 304, 404, 429, 500].some(isRedirectStatus)).toBe(false);
  });

  it('refuses bad configuration at startup: non-DNS endpoints, malformed pins', async () => {
    expect(await settledCode(Promise.resolve().then(() => createUpstreamAgent({ endpoints: [{ host: '10.0.0.1' }] })))).toBe('CONFIG_INVALID');
    expect(await settledCode(Promise.resolve().then(() => parseSpkiPins(['sha256/abc'])))).toBe('CONFIG_INVALID');
    expect(parseSpkiPins([' AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ']).size).toBe(1);
  });

  it('maps errors to stable codes (TLS failures are "nothing sent")', () => {
    expect(upstreamTlsErrorCode(new KarsError('UPSTREAM_PIN_MISMATCH', 'x'))).toBe('UPSTREAM_PIN_MISMATCH');
    expect(upstreamTlsErrorCode(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }))).toBe('UPSTREAM_TLS_FAILED');
    expect(upstreamTlsErrorCode(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeUndefined();
  });
});
