// Cosmos containers of the trust plane (T4-E): one partition per tenant holding its TrustGraph projection and its
// issuer list, and the nonce claims with item TTL on (Azure purges them; expiry is also checked on read).
import type { CosmosContainerSpec } from '../cosmos/cosmos-containers';

export const TRUST_CONTAINER: CosmosContainerSpec = { id: 'trust' };
export const TRUST_REPLAY_CONTAINER: CosmosContainerSpec = { id: 'trust-replay', defaultTtlSec: -1 };
/** Session-enabled queue the admitted updates travel on (session = subject DID). */
export const TRUST_UPDATES_QUEUE = 'kars-trust-updates';
