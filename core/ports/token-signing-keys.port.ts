// Public keys of an identity provider's token signer (Entra ID's JWKS, or the local identity stand-in's), by key id.
import type { KeyObject } from 'node:crypto';

export interface TokenSigningKeys {
  /** The key for `kid`, refreshing the key set when the id is unknown; undefined when the provider has no such key. */
  keyFor(kid: string): Promise<KeyObject | undefined>;
}
