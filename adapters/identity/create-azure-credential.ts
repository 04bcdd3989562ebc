// Picks the Azure credential from environment-style settings: workload identity (projected service-account token,
// AKS) when AZURE_FEDERATED_TOKEN_FILE is set, else managed identity. No secrets in config: only file paths and ids.
import { rootCertificates } from 'node:tls';
import { ManagedIdentityCredential, WorkloadIdentityCredential, type TokenCredential } from '@azure/identity';
import { KarsError } from '../../core/errors';
import { isLoopbackUrl } from './loopback';

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/** The keys read from the env-like bag (process.env, local.settings.json Values, or a test's object). */
export type AzureCredentialEnv = Readonly<Partial<Record<
  'AZURE_TENANT_ID' | 'AZURE_CLIENT_ID' | 'AZURE_FEDERATED_TOKEN_FILE' | 'AZURE_AUTHORITY_HOST' | 'IDENTITY_ENDPOINT',
  string
>>>;

export interface CreateAzureCredentialOptions {
  /** PEM of an extra CA to trust for this credential only (the local dev CA); public roots stay trusted. */
  caCertPem?: string;
  /** Retries of the credential's HTTP pipeline (default 3). */
  maxRetries?: number;
}

export interface AzureCredential {
  credential: TokenCredential;
  kind: 'workload-identity' | 'managed-identity';
  /** A URL that answers without credentials when the identity provider is alive (for the health probe). */
  probeUrl: string;
}

/** @throws KarsError CONFIG_INVALID naming the missing/bad key (never a value). */
export function createAzureCredential(env: AzureCredentialEnv, options: CreateAzureCredentialOptions = {}): AzureCredential {
  const tlsOptions = options.caCertPem ? { tlsOptions: { ca: [...rootCertificates, options.caCertPem] } } : {};
  const retryOptions = { retryOptions: { maxRetries: options.maxRetries ?? 3 } };
  const tokenFile = env.AZURE_FEDERATED_TOKEN_FILE;
  if (tokenFile) {
    const tenantId = required(env, 'AZURE_TENANT_ID');
    const clientId = required(env, 'AZURE_CLIENT_ID');
    const authorityHost = (env.AZURE_AUTHORITY_HOST || DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
    if (!authorityHost.startsWith('https://')) throw new KarsError('CONFIG_INVALID', 'AZURE_AUTHORITY_HOST must be an https URL');
    const credential = new WorkloadIdentityCredential({
      tenantId, clientId, tokenFilePath: tokenFile, authorityHost,
      // Instance discovery asks login.microsoftonline.com about the authority; a loopback authority (the local
      // stand-in) is unknown there, and without internet the call only hangs. Public clouds keep the check.
      disableInstanceDiscovery: isLoopbackUrl(authorityHost),
      ...tlsOptions, ...retryOptions,
    });
    return { credential, kind: 'workload-identity', probeUrl: `${authorityHost}/${tenantId}/v2.0/.well-known/openid-configuration` };
  }
  // MSAL reads IDENTITY_ENDPOINT / IDENTITY_HEADER (App Service, Functions) or falls back to IMDS from process.env itself.
  const clientId = env.AZURE_CLIENT_ID;
  const credential = new ManagedIdentityCredential({ ...(clientId ? { clientId } : {}), ...tlsOptions, ...retryOptions });
  const probeUrl = env.IDENTITY_ENDPOINT || 'http://169.254.169.254/metadata/identity/oauth2/token';
  return { credential, kind: 'managed-identity', probeUrl };
}

function required(env: AzureCredentialEnv, key: 'AZURE_TENANT_ID' | 'AZURE_CLIENT_ID'): string {
  const value = env[key];
  if (!value) throw new KarsError('CONFIG_INVALID', `${key} is required when AZURE_FEDERATED_TOKEN_FILE is set`);
  return value;
}
