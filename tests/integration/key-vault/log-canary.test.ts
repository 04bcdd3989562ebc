// Canary check: the standalone identity and Key Vault servers (their real main.ts, as child processes) serve a full
// round of real-SDK traffic, good and bad, and not one printed line holds a secret value, a token, the service
// account assertion or the managed-identity header.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedIdentityCredential } from '@azure/identity';
import { createAzureCredential } from '../../../adapters/identity/create-azure-credential';
import { createKeyVaultSecretSource, createSecretClient } from '../../../adapters/key-vault/key-vault-secret-source';
import { redact } from '../../../core/secrets/redacted';
import { LOCAL_CLIENT_ID, LOCAL_TENANT_ID } from '../../../infra/local/identity/identity-server';
import { ensureDevTls, type DevTls } from '../../../infra/local/tls/dev-tls';
import { MANAGED_IDENTITY_ENV_KEYS } from '../identity/local-identity-fixture';
import { startStandalone, transpileEntry, type StandaloneProcess } from '../identity/run-standalone';

const canary = (label: string) => `CANARY-${label}-${randomBytes(16).toString('hex')}`;
const secrets = { seeded: canary('seeded'), rotated: canary('rotated'), header: canary('header') };
let dir: string;
let tls: DevTls;
let identity: StandaloneProcess;
let vault: StandaloneProcess;
let identityExit: number | null = null;
let vaultExit: number | null = null;
const observedTokens: string[] = [];
let tokenFile: string;
const savedEnv = new Map(MANAGED_IDENTITY_ENV_KEYS.map((k) => [k, process.env[k]] as const));

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kars-canary-'));
  tls = await ensureDevTls();
  const [identityMain, vaultMain] = await Promise.all([
    transpileEntry('infra/local/identity/main.ts', path.join(dir, 'build')),
    transpileEntry('infra/local/keyvault/main.ts', path.join(dir, 'build')),
  ]);
  tokenFile = path.join(dir, 'sa', 'token');
  const baseEnv = { PATH: process.env.PATH, KARS_TLS_DIR: tls.dir, NODE_EXTRA_CA_CERTS: tls.caCertFile };
  identity = await startStandalone(identityMain, {
    ...baseEnv, IDENTITY_HEADER: secrets.header, AZURE_FEDERATED_TOKEN_FILE: tokenFile,
  }, /^identity server listening on (\d+)$/);
  const seedFile = path.join(dir, 'seed.json');
  await fs.writeFile(seedFile, JSON.stringify({ 'canary-seeded': secrets.seeded }), { mode: 0o600 });
  vault = await startStandalone(vaultMain, {
    ...baseEnv, AZURE_AUTHORITY_HOST: `https://127.0.0.1:${identity.port}`, AZURE_TENANT_ID: LOCAL_TENANT_ID,
    KARS_KEYVAULT_SEED_FILE: seedFile, KARS_KEYVAULT_DATA_DIR: path.join(dir, 'kv'),
  }, /^key vault listening on (\d+)$/);
}, 60_000);

afterAll(async () => {
  for (const [k, v] of savedEnv) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await vault?.stop();
  await identity?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

function raw(url: string, headers: Record<string, string> = {}): Promise<number> {
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    mod.get(url, { headers, ...(url.startsWith('https:') ? { ca: tls.caCertPem } : {}) }, (res) => { res.resume(); resolve(res.statusCode ?? 0); })
      .on('error', reject);
  });
}

describe('no secret reaches the logs of the local servers', () => {
  it('drives good and bad traffic through the real SDKs', async () => {
    const authorityHost = `https://127.0.0.1:${identity.port}`;
    const vaultUrl = `https://127.0.0.1:${vault.port}`;
    const miLine = identity.lines.map((l) => { try { return JSON.parse(l) as { event?: string; url?: string }; } catch { return {}; } })
      .find((l) => l.event === 'identity.managed_identity_endpoint');
    expect(miLine?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/msi\/token$/);

    const env = { AZURE_TENANT_ID: LOCAL_TENANT_ID, AZURE_CLIENT_ID: LOCAL_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE: tokenFile, AZURE_AUTHORITY_HOST: authorityHost };
    const { credential } = createAzureCredential(env, { caCertPem: tls.caCertPem, maxRetries: 0 });
    const vaultToken = (await credential.getToken('https://vault.azure.net/.default'))!.token;
    observedTokens.push(vaultToken, (await fs.readFile(tokenFile, 'utf8')).trim());

    const client = createSecretClient(vaultUrl, credential, { caCertPem: tls.caCertPem, maxRetries: 0 });
    const source = createKeyVaultSecretSource(client, { cacheTtlMs: 0 });
    expect((await source.getSecret('canary-seeded')).reveal()).toBe(secrets.seeded);
    await source.setSecret('canary-rotated', redact(secrets.rotated));
    expect((await client.getSecret('canary-rotated')).value).toBe(secrets.rotated);
    for await (const _ of client.listPropertiesOfSecretVersions('canary-rotated')) { /* drain */ }
    for await (const _ of client.listPropertiesOfSecrets()) { /* drain */ }
    await expect(source.getSecret('missing')).rejects.toThrow();

    // Refused traffic: no token, forged token, wrong managed-identity header, bad assertion.
    expect(await raw(`${vaultUrl}/secrets/canary-seeded?api-version=2025-07-01`)).toBe(401);
    expect(await raw(`${vaultUrl}/secrets/canary-seeded?api-version=2025-07-01`, { authorization: `Bearer ${vaultToken}x` })).toBe(401);
    expect(await raw(`${miLine!.url}?api-version=2019-08-01&resource=https://vault.azure.net`, { 'x-identity-header': canary('wrong-header') })).toBe(401);
    const badFile = path.join(dir, 'bad-token');
    await fs.writeFile(badFile, `${observedTokens[1]!}x`);
    await expect(createAzureCredential({ ...env, AZURE_FEDERATED_TOKEN_FILE: badFile }, { caCertPem: tls.caCertPem, maxRetries: 0 })
      .credential.getToken('https://vault.azure.net/.default')).rejects.toThrow(/AADSTS50013/);

    // Managed identity, through MSAL's App Service source (it reads process.env).
    for (const k of MANAGED_IDENTITY_ENV_KEYS) delete process.env[k];
    process.env.IDENTITY_ENDPOINT = miLine!.url!;
    process.env.IDENTITY_HEADER = secrets.header;
    observedTokens.push((await new ManagedIdentityCredential().getToken('https://vault.azure.net/.default'))!.token);

    vaultExit = await vault.stop();
    identityExit = await identity.stop();
  });

  it('printed request lines, exited cleanly on SIGTERM, and never printed a secret', () => {
    expect(vaultExit).toBe(0);
    expect(identityExit).toBe(0);
    const all = [...identity.lines, ...vault.lines];
    // The check is only meaningful if the servers did log the traffic above.
    expect(vault.lines.filter((l) => l.includes('"keyvault.request"')).length).toBeGreaterThanOrEqual(8);
    expect(identity.lines.filter((l) => l.includes('"identity.request"')).length).toBeGreaterThanOrEqual(2);
    expect(identity.lines.some((l) => l.includes('"identity.mi.request"'))).toBe(true);
    expect(vault.lines.some((l) => l.includes('"keyvault.token_rejected"'))).toBe(true);
    const needles = [...Object.values(secrets), ...observedTokens, ...observedTokens.map((t) => t.split('.')[2]!)];
    expect(observedTokens).toHaveLength(3);
    for (const line of all) {
      for (const needle of needles) expect(line.includes(needle), `a log line holds a secret: ${line.slice(0, 80)}`).toBe(false);
      expect(line).not.toMatch(/CANARY-/);
      expect(line).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\.eyJ/);
    }
  });
});
