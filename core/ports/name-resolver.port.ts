// DNS enters the router's egress policy only through this port (T3-S): the policy resolves a name once and checks
// every answer, and tests can play a resolver that answers differently on each call (DNS rebinding).
import type { ResolvedAddress } from '../router/egress/egress-types';

export interface ResolveOptions {
  abortSignal?: AbortSignal;
}

export interface NameResolver {
  /**
   * Every address the name resolves to, in the resolver's order. `host` is a validated, lower-case DNS name.
   * @throws anything on lookup failure (NXDOMAIN, timeout); the caller maps it to EGRESS_RESOLVE_FAILED
   */
  resolve(host: string, options?: ResolveOptions): Promise<readonly ResolvedAddress[]>;
}
