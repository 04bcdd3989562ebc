// Real ManagedIdentityCredential (MSAL's App Service source) against the local IDENTITY_ENDPOINT / IDENTITY_HEADER.
import * as http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedIdentityCredential } from '@azure/identity';
import { createAzureCredential } from '../../../adapters/identity/create-azure-credential';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';
import { decodeJwtClaims } from '../../../infra/local/identity/jwt';
import { useManagedIdentityEnv } from './local-identity-fixture';

let server: IdentityServer;
let restoreEnv: () => void;

beforeAll(async () => {
  server = await startIdentityServer();
  restoreEnv = useManagedIdentityEnv(server);
});
afterAll(async () => {
  restoreEnv?.();
  await server?.stop();
});

function rawGet(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
  });
}

describe('managed identity through the real SDK', () => {
  it('picks ManagedIdentityCredential when there is no federated token file', () => {
    const c = createAzureCredential({ IDENTITY_ENDPOINT: server.identityEndpoint });
    expect(c.kind).toBe('managed-identity');
    expect(c.credential.constructor.name).toBe('ManagedIdentityCredential');
    expect(c.probeUrl).toBe(server.identityEndpoint);
  });

  it('gets a vault token from the App Service style endpoint, valid at most one hour', async () => {
    const { credential } = createAzureCredential({ IDENTITY_ENDPOINT: server.identityEndpoint });
    const before = server.stats().managedIdentityTokensIssued;
    const t = await credential.getToken('https://vault.azure.net/.default');
    expect(server.stats().managedIdentityTokensIssued).toBe(before + 1);
    const verified = await server.verifyAccessToken(t!.token, 'https://vault.azure.net');
    expect(verified.ok).toBe(true);
    if (verified.ok) expect(verified.value.appid).toBe(server.managedIdentityClientId);
    const claims = decodeJwtClaims(t!.token);
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(3600);
    // MSAL rounds its request time to the second, so its expiresOn may sit up to 0.5 s past iat + 3600.
    expect(t!.expiresOnTimestamp - Date.now()).toBeLessThanOrEqual(3600_000 + 1000);
  });

  it('serves a user-assigned identity only under its own client id', async () => {
    const ok = createAzureCredential({ IDENTITY_ENDPOINT: server.identityEndpoint, AZURE_CLIENT_ID: server.managedIdentityClientId });
    const t = await ok.credential.getToken('https://storage.azure.com/.default');
    expect(decodeJwtClaims(t!.token).aud).toBe('https://storage.azure.com');
    const wrong = new ManagedIdentityCredential({ clientId: '00000000-0000-4000-8000-0000000000ff', retryOptions: { maxRetries: 0 } });
    await expect(wrong.getToken('https://management.azure.com/.default')).rejects.toThrow();
  });

  // Checked on the wire, not through a second credential: MSAL caches the managed-identity source (endpoint and
  // header) in a static, process-wide field, so a later credential would reuse the good header.
  it('refuses callers without the IDENTITY_HEADER secret', async () => {
    const url = `${server.identityEndpoint}?api-version=2019-08-01&resource=https://vault.azure.net`;
    expect(await rawGet(url)).toBe(401);
    expect(await rawGet(url, { 'x-identity-header': 'x'.repeat(server.identityHeader.length) })).toBe(401);
    expect(await rawGet(url, { 'x-identity-header': server.identityHeader })).toBe(200);
  });
});
