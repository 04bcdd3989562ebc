// Health of the identity provider: its OIDC metadata (workload identity) or the managed-identity endpoint answers.
import type { HealthProbe } from '../../core/ports/health-probe.port';
import type { AzureCredential } from './create-azure-credential';
import { createHttpLivenessProbe, type HttpLivenessProbeOptions } from './http-liveness-probe';

export function createIdentityHealthProbe(azureCredential: AzureCredential, options: HttpLivenessProbeOptions = {}): HealthProbe {
  return createHttpLivenessProbe('identity', azureCredential.probeUrl, options);
}
