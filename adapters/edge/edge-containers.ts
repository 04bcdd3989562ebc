// Cosmos containers the edge adapters write (T1-S, T1-E): hook registrations, and replay claims with item TTL on so
// Azure purges expired claims (the local server never does; expiry is also checked on read, see docs/edge.md).
import type { CosmosContainerSpec } from '../cosmos/cosmos-containers';

export const HOOKS_CONTAINER: CosmosContainerSpec = { id: 'hooks' };
export const EDGE_REPLAY_CONTAINER: CosmosContainerSpec = { id: 'edge-replay', defaultTtlSec: -1 };
