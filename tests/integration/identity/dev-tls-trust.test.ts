// Dev TLS: how processes come to trust the local CA with verification left on. The vitest globalSetup exports
// NODE_EXTRA_CA_CERTS before workers fork; code already running passes the CA per client instead.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAzureCredential } from '../../../adapters/identity/create-azure-credential';
import { createHttpLivenessProbe } from '../../../adapters/identity/http-liveness-probe';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';
import { ensureDevTls } from '../../../infra/local/tls/dev-tls';
import { workloadIdentityEnv } from './local-identity-fixture';

const run = promisify(execFile);
let server: IdentityServer;
let metadataUrl: string;
let otherDir: string;

beforeAll(async () => {
  server = await startIdentityServer();
  metadataUrl = `${server.authorityHost}/${server.tenantId}/v2.0/.well-known/openid-configuration`;
  otherDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kars-other-ca-'));
});
afterAll(async () => {
  await server?.stop();
  await fs.rm(otherDir, { recursive: true, force: true });
});

function get(url: string, options: https.RequestOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    https.get(url, options, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
  });
}

/** Runs a CommonJS snippet in a fresh Node without NODE_EXTRA_CA_CERTS; returns its stdout. */
async function inCleanChild(code: string, env: Record<string, string> = {}): Promise<string> {
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...env };
  const { stdout } = await run(process.execPath, ['-e', code], { cwd: process.cwd(), env: childEnv, timeout: 20_000 });
  return stdout.trim();
}

describe('dev TLS trust', () => {
  it('globalSetup exported NODE_EXTRA_CA_CERTS (containing the dev CA) before this worker started', async () => {
    const file = process.env.NODE_EXTRA_CA_CERTS;
    expect(file).toBeTruthy();
    expect(await fs.readFile(file!, 'utf8')).toContain(server.caCertPem.trim());
    expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
  });

  it('so the default agent and the SDK without tlsOptions trust the local servers here', async () => {
    expect(await get(metadataUrl)).toBe(200);
    const { credential } = createAzureCredential(workloadIdentityEnv(server), { maxRetries: 0 });
    expect((await credential.getToken('https://vault.azure.net/.default'))?.token).toMatch(/^ey/);
  });

  it('a process started without it refuses the certificate (verification is on)', async () => {
    const out = await inCleanChild(`
      require('https').get(process.env.URL, (r) => { r.resume(); console.log('status', r.statusCode); })
        .on('error', (e) => console.log('error', e.code));`, { URL: metadataUrl });
    expect(out).toMatch(/^error (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT)/);
  });

  it('the same clean process works with the CA passed per client, through the real SDK (tlsOptions)', async () => {
    const out = await inCleanChild(`
      const tls = require('tls');
      const { WorkloadIdentityCredential } = require('@azure/identity');
      const e = process.env;
      const cred = new WorkloadIdentityCredential({ tenantId: e.T, clientId: e.C, tokenFilePath: e.F, authorityHost: e.A,
        disableInstanceDiscovery: true, retryOptions: { maxRetries: 0 }, tlsOptions: { ca: [...tls.rootCertificates, e.CA] } });
      cred.getToken('https://vault.azure.net/.default').then((t) => console.log('token', t.token.split('.').length),
        (err) => console.log('error', err.name));`,
    { T: server.tenantId, C: server.clientId, F: server.federatedTokenFile, A: server.authorityHost, CA: server.caCertPem });
    expect(out).toBe('token 3');
  });

  it('an explicit CA bundle replaces the process-wide trust instead of adding to it', async () => {
    const other = await ensureDevTls({ dir: otherDir });
    expect(other.caCertPem).not.toBe(server.caCertPem);
    const wrongCa = createHttpLivenessProbe('wrong-ca', metadataUrl, { caCertPem: other.caCertPem });
    await expect(wrongCa.check(AbortSignal.timeout(5000))).rejects.toThrow(/unreachable/);
    await createHttpLivenessProbe('right-ca', metadataUrl, { caCertPem: server.caCertPem }).check(AbortSignal.timeout(5000));
  });

  it('keeps no CA key, restricts the CA to loopback names, and reuses valid material', async () => {
    const tls = await ensureDevTls();
    expect(tls.caCertPem).toBe(server.caCertPem);
    const files = await fs.readdir(tls.dir);
    expect(files.filter((f) => f.endsWith('.key'))).toEqual(['server.key']);
    expect((await fs.stat(tls.keyFile)).mode & 0o777).toBe(0o600);
    const { stdout } = await run('openssl', ['x509', '-in', tls.caCertFile, '-noout', '-text']);
    expect(stdout).toMatch(/Name Constraints: critical/);
    expect(stdout).toMatch(/Permitted:\s+IP:127\.0\.0\.0\/255\.0\.0\.0/);
    expect((await ensureDevTls()).certPem).toBe(tls.certPem);
  });
});
