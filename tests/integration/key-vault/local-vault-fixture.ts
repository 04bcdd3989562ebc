// Test helper: a local Key Vault wired to a running local identity server, and real SDK clients for it.
import type { SecretClient } from '@azure/keyvault-secrets';
import { createAzureCredential } from '../../../adapters/identity/create-azure-credential';
import { createSecretClient } from '../../../adapters/key-vault/key-vault-secret-source';
import type { IdentityServer } from '../../../infra/local/identity/identity-server';
import { startKeyVaultServer, type KeyVaultServer, type StartKeyVaultServerOptions } from '../../../infra/local/keyvault/keyvault-server';
import { workloadIdentityEnv } from '../identity/local-identity-fixture';

/** By default the vault verifies tokens against the identity server's JWKS over HTTPS, as a separate process would. */
export function startLocalVault(identity: IdentityServer, options: Partial<StartKeyVaultServerOptions> = {}): Promise<KeyVaultServer> {
  return startKeyVaultServer({ authorityHost: identity.authorityHost, tenantId: identity.tenantId, ...options });
}

/** A real SecretClient authenticated by workload identity, built by the production adapter. */
export function workloadVaultClient(identity: IdentityServer, vault: KeyVaultServer): SecretClient {
  const { credential } = createAzureCredential(workloadIdentityEnv(identity), { caCertPem: identity.caCertPem, maxRetries: 0 });
  return createSecretClient(vault.vaultUrl, credential, { caCertPem: identity.caCertPem, maxRetries: 0 });
}
