// T3-T "MITM of model traffic", from the router's settings: KARS_ROUTER_UPSTREAM_SPKI_PINS and the mTLS client certificate files, through the router daemon's process.
// Defends: spki-pin (from KARS_ROUTER_UPSTREAM_SPKI_PINS), client certificate (mTLS, from KARS_ROUTER_UPSTREAM_CLIENT_CERT_FILE / _KEY_FILE)
// Two local dev CAs (infra/local/tls, each in its own directory) are both trusted by the daemon (NODE_EXTRA_CA_CERTS),
// as two public roots are. The model endpoint's certificate comes from one; an interceptor holds a valid certificate
// for the same name from the other, with a different key: the chain verifies, only the pin tells them apart. With
// pins configured the daemon refuses the interceptor (502 UPSTREAM_PIN_MISMATCH); without pins (the mitigation off) the
// interceptor reads the call. An upstream requiring a client certificate is reached only when the daemon has one.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevTls, type DevTls } from '../../infra/local/tls/dev-tls';
import { startIdentityServer, type IdentityServer } from '../../infra/local/identity/identity-server';
import { workloadIdentityEnv } from '../integration/identity/local-identity-fixture';
import { startRouterDaemon, stopRouterDaemon } from '../integration/router/router-daemon';
import { clientPki, type CertPair } from '../support/test-certs';
import { pinOf, startTlsUpstream, type TlsUpstream } from '../support/tls-upstream';

let identity: IdentityServer;
let legit: DevTls;
let rogue: DevTls;
let model: TlsUpstream;
let interceptor: TlsUpstream;
let mtlsModel: TlsUpstream;
let client: CertPair;
let dir: string;
let caBundle: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kars-t3t-settings-'));
  identity = await startIdentityServer();
  [legit, rogue] = await Promise.all([ensureDevTls({ dir: join(dir, 'ca-legit') }), ensureDevTls({ dir: join(dir, 'ca-rogue') })]);
  const pki = await clientPki();
  client = pki.client;
  [model, interceptor, mtlsModel] = await Promise.all([
    startTlsUpstream({ cert: legit.certPem, key: legit.keyPem }, '{"tag":"model-ok"}', 200, { 'content-type': 'application/json' }),
    startTlsUpstream({ cert: rogue.certPem, key: rogue.keyPem }, '{"tag":"intercepted"}', 200, { 'content-type': 'application/json' }),
    startTlsUpstream({ cert: legit.certPem, key: legit.keyPem, requestCert: true, rejectUnauthorized: true, ca: pki.caPem }, '{"tag":"mtls-ok"}', 200, { 'content-type': 'application/json' }),
  ]);
  caBundle = join(dir, 'roots.pem');
  writeFileSync(caBundle, [identity.caCertPem, legit.caCertPem, rogue.caCertPem].join('\n'));
  writeFileSync(join(dir, 'client.pem'), client.certPem);
  writeFileSync(join(dir, 'client.key'), client.keyPem, { mode: 0o600 });
});
afterAll(async () => {
  await Promise.all([model?.close(), interceptor?.close(), mtlsModel?.close()]);
  await identity?.stop();
});

/** One chat call through a daemon whose model endpoint is https://localhost:<port>. */
async function callVia(port: number, extra: Record<string, string>): Promise<{ status: number; body: string }> {
  const d = await startRouterDaemon({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NODE_EXTRA_CA_CERTS: caBundle,
    KARS_ROUTER_LISTEN: '127.0.0.1:0',
    KARS_SANDBOX_ID: 'sbx-t3t',
    KARS_ROUTER_MODEL_ENDPOINT: `https://localhost:${port}`,
    KARS_ROUTER_DEPLOYMENTS: 'gpt-4o-mini',
    KARS_ROUTER_UPSTREAM_TIMEOUT_MS: '5000',
    ...workloadIdentityEnv(identity),
    ...extra,
  }, { fromSource: true });
  try {
    const r = await fetch(`http://127.0.0.1:${d.port}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    return { status: r.status, body: await r.text() };
  } finally {
    await stopRouterDaemon(d);
  }
}

// Each daemon start runs the TypeScript entry point (transpiled once, then cached): generous per-test time under load.
describe('T3-T SPKI pins from the settings', { timeout: 120_000 }, () => {
  it('both certificates chain to a trusted root (the interceptor is a valid-chain certificate with another key)', () => {
    expect(pinOf(legit.certPem)).not.toBe(pinOf(rogue.certPem));
  });

  it('ON: pinned to the endpoint key, the endpoint answers and the interceptor is refused (502 UPSTREAM_PIN_MISMATCH)', async () => {
    const pins = { KARS_ROUTER_UPSTREAM_SPKI_PINS: pinOf(legit.certPem) };
    expect(await callVia(model.port, pins)).toMatchObject({ status: 200, body: '{"tag":"model-ok"}' });
    const before = interceptor.hits();
    const r = await callVia(interceptor.port, pins);
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body)).toMatchObject({ code: 'UPSTREAM_PIN_MISMATCH' });
    expect(interceptor.hits()).toBe(before);
  });

  it('OFF (no pins configured): the interceptor with a valid chain reads the call', async () => {
    expect(await callVia(interceptor.port, {})).toMatchObject({ status: 200, body: '{"tag":"intercepted"}' });
  });
});

describe('T3-S / T3-T client certificate (mTLS) from the settings', { timeout: 120_000 }, () => {
  it('ON: with the client certificate files the mTLS upstream answers', async () => {
    const r = await callVia(mtlsModel.port, { KARS_ROUTER_UPSTREAM_CLIENT_CERT_FILE: join(dir, 'client.pem'), KARS_ROUTER_UPSTREAM_CLIENT_KEY_FILE: join(dir, 'client.key') });
    expect(r).toMatchObject({ status: 200, body: '{"tag":"mtls-ok"}' });
  });

  it('OFF (no client certificate): the mTLS upstream is not reached', async () => {
    const before = mtlsModel.hits();
    const r = await callVia(mtlsModel.port, {});
    expect(r.status).toBeGreaterThanOrEqual(500);
    expect(mtlsModel.hits()).toBe(before);
  });

  it('a daemon whose client key file is missing exits 2 naming the setting, never a path or content', async () => {
    await expect(startRouterDaemon({
      PATH: process.env.PATH ?? '/usr/bin:/bin', KARS_ROUTER_LISTEN: '127.0.0.1:0', KARS_SANDBOX_ID: 'sbx-t3t',
      KARS_ROUTER_MODEL_ENDPOINT: `https://localhost:${mtlsModel.port}`, KARS_ROUTER_DEPLOYMENTS: 'gpt-4o-mini', ...workloadIdentityEnv(identity),
      KARS_ROUTER_UPSTREAM_CLIENT_CERT_FILE: join(dir, 'client.pem'), KARS_ROUTER_UPSTREAM_CLIENT_KEY_FILE: join(dir, 'nope-secret.key'),
    }, { fromSource: true })).rejects.toThrow(/exited 2: router: CONFIG_INVALID: invalid settings: KARS_ROUTER_UPSTREAM_CLIENT_KEY_FILE cannot be read\s*$/);
  });
});
