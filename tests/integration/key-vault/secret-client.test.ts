// The real SecretClient against the local Key Vault: bearer challenge, get / set / versions / list / delete, the
// requests it must refuse, and persistence across a restart.
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretClient } from '@azure/keyvault-secrets';
import { rootCertificates } from 'node:tls';
import { captureLogs } from '../../support/log-sink';
import { createAzureCredential } from '../../../adapters/identity/create-azure-credential';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';
import { decodeJwtClaims, signJwt } from '../../../infra/local/identity/jwt';
import type { KeyVaultServer } from '../../../infra/local/keyvault/keyvault-server';
import { workloadIdentityEnv } from '../identity/local-identity-fixture';
import { startLocalVault, workloadVaultClient } from './local-vault-fixture';

let identity: IdentityServer;
let vault: KeyVaultServer;
let client: SecretClient;
const lines: string[] = [];
let dataDir: string;

beforeAll(async () => {
  identity = await startIdentityServer();
  vault = await startLocalVault(identity, { logger: captureLogs({ component: 'key-vault', into: lines }).logger, seed: { 'seeded-secret': 'seed-value' } });
  client = workloadVaultClient(identity, vault);
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kars-kv-data-'));
});
afterAll(async () => {
  await vault?.stop();
  await identity?.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

function raw(method: string, url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca: identity.caCertPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function statusOf(p: Promise<unknown>): Promise<number | string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return (e as { statusCode?: number }).statusCode ?? (e as Error).message;
  }
}

describe('SecretClient against the local Key Vault', () => {
  it('authenticates through the bearer challenge: 401 first, then the request with a token', async () => {
    const fresh = workloadVaultClient(identity, vault);
    const from = lines.length;
    expect((await fresh.getSecret('seeded-secret')).value).toBe('seed-value');
    const requests = lines.slice(from).map((l) => JSON.parse(l) as { route: string; status: number });
    expect(requests.map((r) => `${r.route} ${r.status}`)).toEqual(['/secrets/{name} 401', '/secrets/{name} 200']);
  });

  it('set creates a new version each time; get returns latest or the asked version; versions lists both', async () => {
    const a = await client.setSecret('rotated', 'first', { contentType: 'text/plain', tags: { owner: 'tests' } });
    const b = await client.setSecret('rotated', 'second');
    expect(a.properties.version).toMatch(/^[0-9a-f]{32}$/);
    expect(b.properties.version).not.toBe(a.properties.version);
    expect((await client.getSecret('rotated')).value).toBe('second');
    const old = await client.getSecret('rotated', { version: a.properties.version! });
    expect(old.value).toBe('first');
    expect(old.properties.contentType).toBe('text/plain');
    expect(old.properties.tags).toEqual({ owner: 'tests' });
    const versions: string[] = [];
    for await (const p of client.listPropertiesOfSecretVersions('rotated')) versions.push(p.version!);
    expect(versions.sort()).toEqual([a.properties.version!, b.properties.version!].sort());
  });

  it('lists secret properties across pages (nextLink) without values', async () => {
    for (let i = 0; i < 30; i++) await client.setSecret(`paged-${String(i).padStart(2, '0')}`, `v${i}`);
    const names: string[] = [];
    for await (const p of client.listPropertiesOfSecrets()) {
      names.push(p.name);
      expect((p as unknown as { value?: unknown }).value).toBeUndefined();
    }
    expect(names.filter((n) => n.startsWith('paged-'))).toHaveLength(30);
  });

  it('deletes softly: the name is blocked until purged, then free again', async () => {
    await client.setSecret('to-delete', 'x');
    const deleted = await (await client.beginDeleteSecret('to-delete')).pollUntilDone();
    expect(deleted.recoveryId).toContain('/deletedsecrets/to-delete');
    expect(await statusOf(client.getSecret('to-delete'))).toBe(404);
    expect(await statusOf(client.setSecret('to-delete', 'y'))).toBe(409);
    await client.purgeDeletedSecret('to-delete');
    expect((await client.setSecret('to-delete', 'z')).value).toBe('z');
  });

  it('refuses to read a disabled version', async () => {
    const s = await client.setSecret('disabled-one', 'x');
    await client.updateSecretProperties('disabled-one', s.properties.version!, { enabled: false });
    expect(await statusOf(client.getSecret('disabled-one'))).toBe(403);
  });

  it('answers 404 for a missing secret and 400 for an invalid name', async () => {
    expect(await statusOf(client.getSecret('never-set'))).toBe(404);
    expect(await statusOf(client.setSecret('bad_name', 'x'))).toBe(400);
  });

  it('refuses an unauthenticated request with the Key Vault challenge and no data', async () => {
    const r = await raw('GET', `${vault.vaultUrl}/secrets/seeded-secret?api-version=2025-07-01`);
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe(
      `Bearer authorization="${identity.authorityHost}/${identity.tenantId}", resource="https://vault.azure.net"`);
    expect(r.body).not.toContain('seed-value');
  });

  it('refuses tokens for another audience, from another issuer, forged, or malformed', async () => {
    const { credential } = createAzureCredential(workloadIdentityEnv(identity), { caCertPem: identity.caCertPem });
    const storage = (await credential.getToken('https://storage.azure.com/.default'))!.token;
    const vaultToken = (await credential.getToken('https://vault.azure.net/.default'))!.token;
    const other = await startIdentityServer();
    let foreign: string;
    try {
      const otherCred = createAzureCredential(workloadIdentityEnv(other), { caCertPem: other.caCertPem });
      foreign = (await otherCred.credential.getToken('https://vault.azure.net/.default'))!.token;
    } finally {
      await other.stop();
    }
    const { kid } = JSON.parse(Buffer.from(vaultToken.split('.')[0]!, 'base64url').toString()) as { kid: string };
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = signJwt(decodeJwtClaims(vaultToken), { kid, privateKey, publicKey: createPublicKey(privateKey) });
    const url = `${vault.vaultUrl}/secrets/seeded-secret?api-version=2025-07-01`;
    expect((await raw('GET', url, { authorization: `Bearer ${vaultToken}` })).status).toBe(200);
    for (const bad of [storage, foreign, forged, 'not.a.jwt', `${vaultToken}x`]) {
      const r = await raw('GET', url, { authorization: `Bearer ${bad}` });
      expect(r.status).toBe(401);
      expect(r.body).not.toContain('seed-value');
    }
  });

  it('lets only the allowed client ids in (RBAC stand-in)', async () => {
    const restricted = await startLocalVault(identity, { allowedClientIds: [identity.managedIdentityClientId], seed: { s: 'v' } });
    try {
      expect(await statusOf(workloadVaultClient(identity, restricted).getSecret('s'))).toBe(403);
    } finally {
      await restricted.stop();
    }
  });

  it('accepts the in-process verifier from startIdentityServer as well', async () => {
    const inProc = await startLocalVault(identity, { verifyAccessToken: identity.verifyAccessToken, seed: { s: 'in-process' } });
    try {
      expect((await workloadVaultClient(identity, inProc).getSecret('s')).value).toBe('in-process');
    } finally {
      await inProc.stop();
    }
  });

  it('needs the challenge resource check off for a loopback vault, which the adapter does only for loopback', async () => {
    const { credential } = createAzureCredential(workloadIdentityEnv(identity), { caCertPem: identity.caCertPem });
    const strict = new SecretClient(vault.vaultUrl, credential, { tlsOptions: { ca: [...rootCertificates, identity.caCertPem] } });
    await expect(strict.getSecret('seeded-secret')).rejects.toThrow(/does not match the requested domain/);
  });

  it('keeps secrets and versions across a restart with dataDir, and the seed does not overwrite them', async () => {
    const first = await startLocalVault(identity, { dataDir, seed: { persisted: 'seeded' } });
    const c1 = workloadVaultClient(identity, first);
    await c1.setSecret('persisted', 'rotated');
    await first.stop();
    const second = await startLocalVault(identity, { dataDir, seed: { persisted: 'seeded' } });
    try {
      const c2 = workloadVaultClient(identity, second);
      expect((await c2.getSecret('persisted')).value).toBe('rotated');
      let count = 0;
      for await (const _ of c2.listPropertiesOfSecretVersions('persisted')) count++;
      expect(count).toBe(2);
      expect((await fs.stat(path.join(dataDir, 'keyvault.json'))).mode & 0o777).toBe(0o600);
    } finally {
      await second.stop();
    }
  });
});
