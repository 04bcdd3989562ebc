// Health per model deployment (T3-D): 3 failures (429, 5xx, connect errors) within 60 s mark a deployment unhealthy;
// it gets one probe after 30 s and is healthy again when the probe succeeds. Unhealthy deployments are skipped by
// failover, and when all are unhealthy the router sheds the call (503) instead of stampeding the upstream.
import type { CircuitBreakerConfig } from '../../limits/circuit-breaker';
import { CircuitBreakerSet } from '../../limits/circuit-breaker-set';
import type { Clock } from '../../ports/clock.port';

export const DEPLOYMENT_HEALTH_DEFAULTS: CircuitBreakerConfig = {
  failureThreshold: 3, windowMs: 60_000, openMs: 30_000, halfOpenProbes: 1, probeTimeoutMs: 120_000,
};

/** One breaker per deployment key (e.g. `endpoint/deployment`); shared by every call the router makes. */
export function createDeploymentHealth(clock: Clock, config: CircuitBreakerConfig = DEPLOYMENT_HEALTH_DEFAULTS): CircuitBreakerSet {
  return new CircuitBreakerSet(clock, config);
}
