// Health of Key Vault: an unauthenticated list request must come back (401 with the bearer challenge counts as up);
// no token is spent and no secret is read.
import type { HealthProbe } from '../../core/ports/health-probe.port';
import { createHttpLivenessProbe, type HttpLivenessProbeOptions } from '../identity/http-liveness-probe';

export function createKeyVaultHealthProbe(vaultUrl: string, options: HttpLivenessProbeOptions = {}): HealthProbe {
  return createHttpLivenessProbe('key-vault', `${vaultUrl.replace(/\/+$/, '')}/secrets?api-version=2025-07-01&maxresults=1`, options);
}
