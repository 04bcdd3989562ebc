// Azure access tokens: the router and Functions get them from workload / managed identity, never from callers.
import type { Redacted } from '../secrets/redacted';

export interface AccessToken {
  token: Redacted<string>;
  expiresOnMs: number;
}

export interface TokenSource {
  /** @throws KarsError IDENTITY_UNAVAILABLE */
  getToken(scope: string, options?: { abortSignal?: AbortSignal }): Promise<AccessToken>;
}
