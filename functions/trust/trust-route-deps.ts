// What the trust routes and the trust applier need, built from the app's services per invocation (every part is
// memoised in functions/services.ts, so this is cheap).
import type { Clock } from '../../core/ports/clock.port';
import type { Logger } from '../../core/ports/logger.port';
import type { TrustGraphSource } from '../../core/ports/trust-graph-store.port';
import type { AdmitTrustDeps } from '../../core/trust/admit-trust-batch';
import type { ApplyTrustDeps } from '../../core/trust/apply-trust-message';
import type { TrustMitigation, TrustPolicy } from '../../core/trust/trust-policy';

export interface TrustRouteDeps {
  readonly admit: AdmitTrustDeps;
  readonly apply: ApplyTrustDeps;
  readonly graphs: TrustGraphSource;
  /** Operator write of a tenant's issuer keys. */
  readonly setIssuers: (tenantId: string, keys: readonly string[]) => Promise<void>;
  readonly policy: TrustPolicy;
  readonly clock: Clock;
  readonly logger: Logger;
  /** TEST ONLY: admission mitigations switched off. Never set from configuration. */
  readonly _disable?: readonly TrustMitigation[];
}
