// T2-D "agent spam-saturates router": a global bucket (500 rps, burst 1000) for everything this router serves and one
// bucket per agent (50 rps, burst 100), both exact integer token buckets (core/limits/token-bucket.ts). A request
// passes only if both have a token, and then takes from both; a refusal takes from neither, so a flooding agent
// cannot drain the global budget with requests that were refused anyway. The agent key is the router's own record
// of who is calling (the sandbox's agent identity), never a value the caller chooses: a caller-chosen key could be
// rotated to get a fresh bucket per request.
import { perSecond, takeTokens, type TokenBucketConfig, type TokenBucketState } from '../limits/token-bucket';

export interface RouterLimits {
  readonly globalRps: number;
  readonly globalBurst: number;
  readonly agentRps: number;
  readonly agentBurst: number;
}

export const DEFAULT_ROUTER_LIMITS: RouterLimits = { globalRps: 500, globalBurst: 1000, agentRps: 50, agentBurst: 100 };

export type AdmitResult =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly scope: 'global' | 'agent'; readonly retryAfterMs: number };

export interface RouterLimiter {
  admit(agentKey: string, nowMs: number): AdmitResult;
}

/** Most agent buckets kept; the least recently used is dropped past it (a dropped bucket restarts full). */
const MAX_AGENT_BUCKETS = 10_000;

/** @throws {TypeError|RangeError} for a non-positive or non-integer limit (a configuration bug) */
export function createRouterLimiter(limits: RouterLimits = DEFAULT_ROUTER_LIMITS): RouterLimiter {
  const global: TokenBucketConfig = perSecond(limits.globalRps, limits.globalBurst);
  const agent: TokenBucketConfig = perSecond(limits.agentRps, limits.agentBurst);
  let globalState: TokenBucketState | undefined;
  const agents = new Map<string, TokenBucketState>();
  return {
    admit(agentKey, nowMs) {
      const a = takeTokens(agents.get(agentKey), nowMs, 1, agent);
      if (!a.allowed) return { allowed: false, scope: 'agent', retryAfterMs: a.retryAfterMs };
      const g = takeTokens(globalState, nowMs, 1, global);
      if (!g.allowed) return { allowed: false, scope: 'global', retryAfterMs: g.retryAfterMs };
      globalState = g.state;
      agents.delete(agentKey);
      agents.set(agentKey, a.state);
      if (agents.size > MAX_AGENT_BUCKETS) agents.delete(agents.keys().next().value!);
      return { allowed: true };
    },
  };
}

/** `Retry-After` (RFC 9110 §10.2.3) is whole seconds: round up so a client that obeys it is admitted. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}
