// Cosmos containers of the mesh (T4): agents (registrations, bindings, prekeys, capability index), the relay store's
// pending frames and the Ed25519-Timestamp replay claims. Item TTL on where documents expire, so Azure purges them;
// expiry is also checked on read (docs/cosmos-local-gaps.md), nothing relies on the purge.
import type { CosmosContainerSpec } from '../cosmos/cosmos-containers';

export const MESH_AGENTS_CONTAINER: CosmosContainerSpec = { id: 'mesh-agents' };
export const MESH_INBOX_CONTAINER: CosmosContainerSpec = { id: 'mesh-inbox', defaultTtlSec: -1 };
export const MESH_REPLAY_CONTAINER: CosmosContainerSpec = { id: 'mesh-replay', defaultTtlSec: -1 };
