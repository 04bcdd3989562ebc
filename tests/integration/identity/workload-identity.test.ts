// Real WorkloadIdentityCredential (MSAL inside) against the local Entra + OIDC issuer: the token round trip, the
// one-hour cap, and assertions that must be refused (forged, expired, wrong audience/subject/issuer, alg none).
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKarsError } from '../../../core/errors';
import { createAzureCredential } from '../../../adapters/identity/create-azure-credential';
import { createCredentialTokenSource } from '../../../adapters/identity/credential-token-source';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';
import { decodeJwtClaims, signJwt } from '../../../infra/local/identity/jwt';
import { workloadIdentityEnv } from './local-identity-fixture';

const VAULT_SCOPE = 'https://vault.azure.net/.default';
let server: IdentityServer;
let dir: string;

beforeAll(async () => {
  server = await startIdentityServer();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kars-wi-test-'));
});
afterAll(async () => {
  await server?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

let fileCount = 0;
async function tokenFileWith(assertion: string): Promise<string> {
  const file = path.join(dir, `token-${++fileCount}`);
  await fs.writeFile(file, assertion, { mode: 0o600 });
  return file;
}

/** A fresh credential per call: WorkloadIdentityCredential caches the file's content for 5 minutes. */
function credentialFor(tokenFile: string) {
  return createAzureCredential(workloadIdentityEnv(server, tokenFile), { caCertPem: server.caCertPem, maxRetries: 0 }).credential;
}

async function refusal(assertion: string): Promise<string> {
  const before = server.stats();
  const err = await credentialFor(await tokenFileWith(assertion)).getToken(VAULT_SCOPE).then(
    () => { throw new Error('token was issued for a bad assertion'); },
    (e: Error) => e,
  );
  const after = server.stats();
  expect(after.workloadTokensIssued).toBe(before.workloadTokensIssued);
  expect(after.rejectedAssertions).toBe(before.rejectedAssertions + 1);
  return err.message;
}

describe('workload identity through the real SDK', () => {
  it('picks WorkloadIdentityCredential when AZURE_FEDERATED_TOKEN_FILE is set', () => {
    const c = createAzureCredential(workloadIdentityEnv(server), { caCertPem: server.caCertPem });
    expect(c.kind).toBe('workload-identity');
    expect(c.credential.constructor.name).toBe('WorkloadIdentityCredential');
  });

  it('exchanges the projected service-account token for a vault access token', async () => {
    const { credential } = createAzureCredential(workloadIdentityEnv(server), { caCertPem: server.caCertPem });
    const before = server.stats().workloadTokensIssued;
    const t = await credential.getToken(VAULT_SCOPE);
    expect(t).not.toBeNull();
    expect(server.stats().workloadTokensIssued).toBe(before + 1);
    const verified = await server.verifyAccessToken(t!.token, 'https://vault.azure.net');
    expect(verified.ok).toBe(true);
    if (verified.ok) {
      expect(verified.value.appid).toBe(server.clientId);
      expect(verified.value.tid).toBe(server.tenantId);
      expect(verified.value.aud).toBe('https://vault.azure.net');
    }
    // The same token is not good for another resource.
    expect((await server.verifyAccessToken(t!.token, 'https://storage.azure.com')).ok).toBe(false);
  });

  it('issues tokens that live at most one hour', async () => {
    const { credential } = createAzureCredential(workloadIdentityEnv(server), { caCertPem: server.caCertPem });
    const t = await credential.getToken('https://cognitiveservices.azure.com/.default');
    const claims = decodeJwtClaims(t!.token);
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(3600);
    // MSAL rounds its request time to the second, so its expiresOn may sit up to 0.5 s past iat + 3600.
    expect(t!.expiresOnTimestamp - Date.now()).toBeLessThanOrEqual(3600_000 + 1000);
    expect(t!.expiresOnTimestamp).toBeGreaterThan(Date.now());
  });

  it('refuses to start with a lifetime above one hour', async () => {
    await expect(startIdentityServer({ tokenLifetimeSec: 3601 })).rejects.toThrow(RangeError);
  });

  it('refuses an assertion signed by a key the issuer does not hold, even under its kid', async () => {
    const legit = server.mintServiceAccountToken();
    const { kid } = JSON.parse(Buffer.from(legit.split('.')[0]!, 'base64url').toString()) as { kid: string };
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = signJwt(decodeJwtClaims(legit), { kid, privateKey, publicKey: createPublicKey(privateKey) });
    expect(await refusal(forged)).toContain('AADSTS50013');
  });

  it('refuses an expired assertion', async () => {
    const nowSec = Math.floor(Date.now() / 1000);
    expect(await refusal(server.mintServiceAccountToken({ issuedAtSec: nowSec - 7200, lifetimeSec: 3600 }))).toContain('AADSTS700024');
  });

  it('refuses an assertion for another audience', async () => {
    expect(await refusal(server.mintServiceAccountToken({ audience: 'api://SomethingElse' }))).toContain('AADSTS700212');
  });

  it('refuses an assertion for another service account', async () => {
    expect(await refusal(server.mintServiceAccountToken({ subject: 'system:serviceaccount:default:intruder' }))).toContain('AADSTS700213');
  });

  it('refuses an unsigned (alg none) assertion', async () => {
    const claims = decodeJwtClaims(server.mintServiceAccountToken());
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.AA`;
    expect(await refusal(none)).toContain('AADSTS50013');
  });

  it('surfaces a refusal through the TokenSource as IDENTITY_UNAVAILABLE without the assertion', async () => {
    const assertion = server.mintServiceAccountToken({ audience: 'api://wrong' });
    const source = createCredentialTokenSource(credentialFor(await tokenFileWith(assertion)));
    const err = await source.getToken(VAULT_SCOPE).then(() => undefined, (e: Error) => e);
    expect(isKarsError(err) ? err.code : err).toBe('IDENTITY_UNAVAILABLE');
    expect(err?.message).not.toContain(assertion);
    expect(err?.message).not.toContain(assertion.split('.')[2]!);
  });

  it('never contacts login.microsoftonline.com: a loopback authority disables instance discovery', async () => {
    // No internet here: if MSAL tried instance discovery the call would hang until the test timeout.
    const { credential } = createAzureCredential(workloadIdentityEnv(server), { caCertPem: server.caCertPem, maxRetries: 0 });
    const started = Date.now();
    await credential.getToken('https://management.azure.com/.default');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('rejects a non-https authority and a token file without tenant/client as CONFIG_INVALID', () => {
    const env = workloadIdentityEnv(server);
    expect(() => createAzureCredential({ ...env, AZURE_AUTHORITY_HOST: server.authorityHost.replace('https', 'http') }))
      .toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => createAzureCredential({ ...env, AZURE_TENANT_ID: undefined }))
      .toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('AZURE_TENANT_ID') }));
  });
});
