// Builds the operator authenticator of the route guard from the settings (functions/http/operator-auth-settings.ts):
// Entra ID's JWKS for the configured tenant, checked with the system clock. Built once, on the first operator request.
import { createOperatorAuthenticator, type OperatorAuthenticator } from '../../core/auth/authorize-operator';
import { systemClock } from '../../core/ports/clock.port';
import { createOpenIdSigningKeys } from '../../adapters/identity/openid-signing-keys';
import { loadOperatorAuthSettings } from './operator-auth-settings';

/**
 * @returns the authenticator, or undefined in local mode without operator settings (the local host's key check stands)
 * @throws KarsError CONFIG_INVALID
 */
export function operatorAuthenticatorFromEnv(env: Readonly<Record<string, string | undefined>>): OperatorAuthenticator | undefined {
  const settings = loadOperatorAuthSettings(env);
  if (!settings) return undefined;
  return createOperatorAuthenticator(settings.policy, createOpenIdSigningKeys({ jwksUrl: settings.jwksUrl, clock: systemClock }), systemClock);
}
