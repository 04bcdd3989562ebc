// How the CLI authenticates to the operator routes: against Azure, an Entra access token for the operator API from
// @azure/identity (DefaultAzureCredential: `az login`, or workload identity / managed identity in CI), sent as a
// bearer token; against the local stack (a loopback URL), the local host's master key. Neither ever goes in a URL.
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { isLoopbackUrl } from '../../adapters/identity/loopback';
import type { CliIo } from '../command';
import { CliUsageError } from '../command';

export const OPERATOR_SCOPE_ENV = 'KARS_OPERATOR_SCOPE';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const SCOPE = /^(api:\/\/[\w.~/-]+|https:\/\/[\w.-]+(\/[\w.~-]*)*)\/\.default$/;

export interface OperatorAuthFlags {
  /** Environment variable holding the local master key (loopback URLs only). */
  keyEnv?: string;
  /** `api://<operator API client id>/.default`; default $KARS_OPERATOR_SCOPE. */
  scope?: string;
}

/**
 * @returns the headers that authenticate one operator request to `baseUrl`
 * @throws CliUsageError when the needed key, scope or transport is missing
 */
export async function operatorAuthHeaders(
  io: CliIo, baseUrl: string, flags: OperatorAuthFlags,
  credential: () => TokenCredential = () => new DefaultAzureCredential(),
): Promise<Record<string, string>> {
  if (isLoopbackUrl(baseUrl)) {
    const varName = flags.keyEnv ?? 'KARS_LOCAL_MASTER_KEY';
    if (!ENV_NAME.test(varName)) throw new CliUsageError('--key-env must name an environment variable');
    const key = io.env[varName];
    if (!key) throw new CliUsageError(`environment variable ${varName} (--key-env) is not set`);
    return { 'x-functions-key': key };
  }
  if (!baseUrl.startsWith('https://')) throw new CliUsageError('--url must be https for a remote Function app (a bearer token never crosses plain http)');
  const scope = flags.scope ?? io.env[OPERATOR_SCOPE_ENV];
  if (!scope || !SCOPE.test(scope)) throw new CliUsageError(`--scope (or ${OPERATOR_SCOPE_ENV}) must be the operator API scope, api://<operatorApiClientId>/.default`);
  let token;
  try {
    token = await credential().getToken(scope);
  } catch (e) {
    throw new CliUsageError(`could not sign in to Entra ID for ${scope} (${e instanceof Error ? e.name : 'error'}); run az login`);
  }
  if (!token) throw new CliUsageError(`no Entra token for ${scope}; run az login`);
  return { authorization: `Bearer ${token.token}` };
}
