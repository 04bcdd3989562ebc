// Identity health probe: up while the local issuer answers, down within 2 s once it is stopped, bounded when the
// peer accepts but never answers, and prompt on abort.
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAzureCredential } from '../../../adapters/identity/create-azure-credential';
import { createHttpLivenessProbe } from '../../../adapters/identity/http-liveness-probe';
import { createIdentityHealthProbe } from '../../../adapters/identity/identity-health-probe';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';
import { workloadIdentityEnv } from './local-identity-fixture';

let silent: net.Server;
let silentPort: number;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  // Accepts connections and never answers: the "hung dependency" case.
  silent = net.createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as net.AddressInfo).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
});

async function outcome(p: Promise<void>): Promise<{ up: boolean; ms: number; message?: string }> {
  const started = Date.now();
  try {
    await p;
    return { up: true, ms: Date.now() - started };
  } catch (e) {
    return { up: false, ms: Date.now() - started, message: (e as Error).message };
  }
}

describe('identity health probe', () => {
  let server: IdentityServer;
  beforeAll(async () => {
    server = await startIdentityServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('is up for workload identity and managed identity while the server runs, and down within 2 s once stopped', async () => {
    const wi = createIdentityHealthProbe(createAzureCredential(workloadIdentityEnv(server), { caCertPem: server.caCertPem }),
      { caCertPem: server.caCertPem });
    const mi = createIdentityHealthProbe(createAzureCredential({ IDENTITY_ENDPOINT: server.identityEndpoint }));
    expect(wi.name).toBe('identity');
    expect((await outcome(wi.check(AbortSignal.timeout(5000)))).up).toBe(true);
    expect((await outcome(mi.check(AbortSignal.timeout(5000)))).up).toBe(true);
    await server.stop();
    for (const probe of [wi, mi]) {
      const r = await outcome(probe.check(AbortSignal.timeout(10_000)));
      expect(r.up).toBe(false);
      expect(r.ms).toBeLessThan(2000);
    }
  });
});

describe('http liveness probe bounds', () => {
  it('gives up on a peer that never answers after timeoutMs', async () => {
    const probe = createHttpLivenessProbe('hung', `http://127.0.0.1:${silentPort}/`, { timeoutMs: 300 });
    const r = await outcome(probe.check(AbortSignal.timeout(10_000)));
    expect(r.up).toBe(false);
    expect(r.ms).toBeGreaterThanOrEqual(250);
    expect(r.ms).toBeLessThan(1500);
  });

  it('gives up within ~2 s by default even if the caller never aborts', async () => {
    const probe = createHttpLivenessProbe('hung', `http://127.0.0.1:${silentPort}/`);
    const r = await outcome(probe.check(new AbortController().signal));
    expect(r.up).toBe(false);
    expect(r.ms).toBeLessThan(2600);
  });

  it('stops at once when the caller aborts', async () => {
    const probe = createHttpLivenessProbe('hung', `http://127.0.0.1:${silentPort}/`, { timeoutMs: 10_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const r = await outcome(probe.check(controller.signal));
    expect(r.up).toBe(false);
    expect(r.message).toContain('aborted');
    expect(r.ms).toBeLessThan(1000);
  });
});
