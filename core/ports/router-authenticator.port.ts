// Per-sandbox router identity (T4-S, ARCHITECTURE §4): a router calls the mesh routes with its pod's projected
// service-account token; the authenticator validates it against the cluster's OIDC issuer and names the sandbox.
import type { Result } from '../errors';

export interface RouterCaller {
  /** The sandbox the token's subject names (`system:serviceaccount:<namespace>:<sa>`: the namespace). */
  readonly sandboxId: string;
}

/** Why a token was refused: for the audit log only; the route answers one generic 401. */
export type RouterTokenRefusal =
  | 'missing' | 'malformed' | 'algorithm' | 'unknown-key' | 'signature' | 'issuer' | 'audience' | 'expired'
  | 'not-yet-valid' | 'lifetime' | 'subject' | 'keys-unavailable';

export interface RouterAuthenticator {
  /** Never throws for a bad token; `keys-unavailable` when the issuer's keys could not be fetched (fail closed). */
  authenticate(token: string | undefined, options?: { abortSignal?: AbortSignal }): Promise<Result<RouterCaller, RouterTokenRefusal>>;
}
