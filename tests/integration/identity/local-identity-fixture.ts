// Test helper: env bags that point the real @azure/identity credentials at a running local identity server.
import type { AzureCredentialEnv } from '../../../adapters/identity/create-azure-credential';
import type { IdentityServer } from '../../../infra/local/identity/identity-server';

/** What AKS workload identity injects into a pod, pointed at the local issuer. */
export function workloadIdentityEnv(server: IdentityServer, tokenFile = server.federatedTokenFile): AzureCredentialEnv {
  return {
    AZURE_TENANT_ID: server.tenantId,
    AZURE_CLIENT_ID: server.clientId,
    AZURE_FEDERATED_TOKEN_FILE: tokenFile,
    AZURE_AUTHORITY_HOST: server.authorityHost,
  };
}

/** Keys MSAL's managed-identity source detection reads from process.env; cleared so only App Service style remains. */
export const MANAGED_IDENTITY_ENV_KEYS = [
  'IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'IDENTITY_SERVER_THUMBPRINT', 'IMDS_ENDPOINT', 'MSI_ENDPOINT', 'MSI_SECRET',
  'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_AUTHORITY_HOST', 'AZURE_POD_IDENTITY_AUTHORITY_HOST',
] as const;

/** Sets App Service style managed identity in process.env (MSAL reads it there); returns a restore function. */
export function useManagedIdentityEnv(server: IdentityServer, header = server.identityHeader): () => void {
  const saved = new Map(MANAGED_IDENTITY_ENV_KEYS.map((k) => [k, process.env[k]] as const));
  for (const k of MANAGED_IDENTITY_ENV_KEYS) delete process.env[k];
  process.env.IDENTITY_ENDPOINT = server.identityEndpoint;
  process.env.IDENTITY_HEADER = header;
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
