// The Key Vault SecretSource (real SecretClient, real WorkloadIdentityCredential) against the shared contract, plus
// its cache, error translation and health probe.
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKarsError } from '../../../core/errors';
import { redact } from '../../../core/secrets/redacted';
import { captureLogs } from '../../support/log-sink';
import { createKeyVaultHealthProbe } from '../../../adapters/key-vault/key-vault-health-probe';
import { createKeyVaultSecretSource, createSecretClient } from '../../../adapters/key-vault/key-vault-secret-source';
import { createAzureCredential } from '../../../adapters/identity/create-azure-credential';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';
import { describeSecretSourceContract } from '../../contracts/secret-source.contract';
import { startLocalVault, workloadVaultClient } from './local-vault-fixture';
import { settledCode } from '../../support/settled-code';

let identity: IdentityServer;

beforeAll(async () => {
  identity = await startIdentityServer();
});
afterAll(async () => {
  await identity?.stop();
});

describeSecretSourceContract('key vault (real SecretClient)', async (seed) => {
  const vault = await startLocalVault(identity, { seed, verifyAccessToken: identity.verifyAccessToken });
  return { source: createKeyVaultSecretSource(workloadVaultClient(identity, vault)), cleanup: () => vault.stop() };
});

describe('key vault secret source specifics', () => {
  it('serves reads from its cache until the TTL passes, then sees a rotation made elsewhere', async () => {
    const lines: string[] = [];
    const vault = await startLocalVault(identity, { seed: { rotating: 'v1' }, logger: captureLogs({ component: 'key-vault', into: lines }).logger });
    try {
      const clock = { offsetMs: 0, nowMs: () => Date.now() + clock.offsetMs };
      const source = createKeyVaultSecretSource(workloadVaultClient(identity, vault), { cacheTtlMs: 30_000, clock });
      expect((await source.getSecret('rotating')).reveal()).toBe('v1');
      await workloadVaultClient(identity, vault).setSecret('rotating', 'v2');
      const before = lines.length;
      expect((await source.getSecret('ROTATING')).reveal()).toBe('v1');
      expect(lines.length).toBe(before);
      clock.offsetMs = 31_000;
      expect((await source.getSecret('rotating')).reveal()).toBe('v2');
      expect(lines.length).toBeGreaterThan(before);
    } finally {
      await vault.stop();
    }
  });

  it('shares one vault request between concurrent readers', async () => {
    const lines: string[] = [];
    const vault = await startLocalVault(identity, { seed: { hot: 'x' }, logger: captureLogs({ component: 'key-vault', into: lines }).logger });
    try {
      const source = createKeyVaultSecretSource(workloadVaultClient(identity, vault));
      await source.getSecret('warm-up-missing').catch(() => undefined); // completes the challenge
      const before = lines.length;
      const values = await Promise.all(Array.from({ length: 10 }, () => source.getSecret('hot')));
      expect(values.every((v) => v.reveal() === 'x')).toBe(true);
      expect(lines.length - before).toBe(1);
    } finally {
      await vault.stop();
    }
  });

  it('translates a disabled secret and a refused identity to SECRET_UNAVAILABLE, without the token', async () => {
    const vault = await startLocalVault(identity, { seed: { s: 'v' }, allowedClientIds: ['someone-else'] });
    try {
      const source = createKeyVaultSecretSource(workloadVaultClient(identity, vault));
      const err = await source.getSecret('s').then(() => undefined, (e: Error) => e);
      expect(isKarsError(err) ? err.code : err).toBe('SECRET_UNAVAILABLE');
      expect(err?.message).toContain('403');
      expect(inspect(err, { depth: 10 })).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
      expect(err?.cause).toBeUndefined();
    } finally {
      await vault.stop();
    }
    const open = await startLocalVault(identity, { seed: {} });
    try {
      const client = workloadVaultClient(identity, open);
      const s = await client.setSecret('off', 'v');
      await client.updateSecretProperties('off', s.properties.version!, { enabled: false });
      expect(await settledCode(createKeyVaultSecretSource(client, { cacheTtlMs: 0 }).getSecret('off'))).toBe('SECRET_UNAVAILABLE');
    } finally {
      await open.stop();
    }
  });

  it('reports SECRET_UNAVAILABLE when the vault is down, and the health probe is down within 2 s', async () => {
    const vault = await startLocalVault(identity, { seed: { s: 'v' } });
    const source = createKeyVaultSecretSource(workloadVaultClient(identity, vault), { cacheTtlMs: 0 });
    const probe = createKeyVaultHealthProbe(vault.vaultUrl, { caCertPem: identity.caCertPem });
    expect(probe.name).toBe('key-vault');
    await probe.check(AbortSignal.timeout(5000));
    expect((await source.getSecret('s')).reveal()).toBe('v');
    await vault.stop();
    const started = Date.now();
    await expect(probe.check(AbortSignal.timeout(10_000))).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await settledCode(source.getSecret('s'))).toBe('SECRET_UNAVAILABLE');
    expect(await settledCode(source.setSecret('s', redact('w')))).toBe('SECRET_UNAVAILABLE');
  });

  it('refuses a non-https vault URL as CONFIG_INVALID', () => {
    const cred = createAzureCredential({ IDENTITY_ENDPOINT: 'http://127.0.0.1:1/msi/token' }).credential;
    expect(() => createSecretClient('http://127.0.0.1:8200', cred)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
