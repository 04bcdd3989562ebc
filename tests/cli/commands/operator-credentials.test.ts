// The CLI authenticates to operator routes with an Entra token against Azure (real @azure/identity against the local
// identity endpoint here) and with the local master key against the local stack; a token never crosses plain http.
import { WorkloadIdentityCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorAuthHeaders } from '../../../cli/commands/operator-credentials';
import type { CliIo } from '../../../cli/command';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';

const io = (env: Record<string, string> = {}): CliIo => ({ out: () => undefined, err: () => undefined, env, cwd: '.' });

describe('operatorAuthHeaders', () => {
  let id: IdentityServer;
  beforeAll(async () => { id = await startIdentityServer(); });
  afterAll(async () => { await id?.stop(); });
  const credential = () => new WorkloadIdentityCredential({
    tenantId: id.tenantId, clientId: id.clientId, tokenFilePath: id.federatedTokenFile, authorityHost: id.authorityHost, disableInstanceDiscovery: true,
  });

  it('local stack (loopback): the local master key, from the named variable', async () => {
    expect(await operatorAuthHeaders(io({ KARS_LOCAL_MASTER_KEY: 'local-key' }), 'http://127.0.0.1:7071', {})).toEqual({ 'x-functions-key': 'local-key' });
    await expect(operatorAuthHeaders(io(), 'http://127.0.0.1:7071', {})).rejects.toThrow(/KARS_LOCAL_MASTER_KEY/);
  });

  it('Azure: an Entra access token for the operator API scope, as a bearer header', async () => {
    const headers = await operatorAuthHeaders(io({ KARS_OPERATOR_SCOPE: 'api://kars-operator/.default' }), 'https://kars-func.example.net', {}, credential);
    expect(Object.keys(headers)).toEqual(['authorization']);
    const token = headers.authorization!.replace(/^Bearer /, '');
    expect(await id.verifyAccessToken(token, 'api://kars-operator')).toMatchObject({ ok: true });
  });

  it('Azure: refuses plain http and a missing or malformed scope before asking for a token', async () => {
    let asked = 0;
    const counting = () => { asked += 1; return credential(); };
    await expect(operatorAuthHeaders(io({ KARS_OPERATOR_SCOPE: 'api://kars-operator/.default' }), 'http://kars-func.example.net', {}, counting)).rejects.toThrow(/https/);
    await expect(operatorAuthHeaders(io(), 'https://kars-func.example.net', {}, counting)).rejects.toThrow(/scope/);
    await expect(operatorAuthHeaders(io(), 'https://kars-func.example.net', { scope: 'api://x' }, counting)).rejects.toThrow(/scope/);
    expect(asked).toBe(0);
  });
});
