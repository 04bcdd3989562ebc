// Where a receiving router finds the sending router's sandbox key (T4-S): in the sender's registry record. When a
// router forwards its agent's registration it writes `kars_router_key` (base64url Ed25519) and `kars_sandbox` into
// the record's metadata and refuses those keys from the agent. The registry lets only the router of the sandbox a DID
// is bound to create that record (per-sandbox router tokens), so the key found under DID D is the key of the router
// that owns D, joined in one read; a separate key directory would have to join the same two facts.
import type { Clock } from '../../ports/clock.port';
import type { MeshUpstream } from '../../ports/mesh-upstream.port';
import { decodeBase64UrlStrict } from '../registry/base64url';

export const ROUTER_KEY_METADATA = 'kars_router_key';
export const ROUTER_SANDBOX_METADATA = 'kars_sandbox';

export interface PeerRouterKey {
  readonly sandbox: string;
  readonly publicKey: Uint8Array;
}

export interface RouterKeyDirectory {
  /** The key of the router that owns `did`; undefined when unknown (no record, no key published). */
  keyOf(did: string): Promise<PeerRouterKey | undefined>;
}

/** Found keys are cached for `ttlMs` (default 5 min); misses are not, so a just-registered peer is found at once. */
export function registryRouterKeys(upstream: Pick<MeshUpstream, 'agentMetadata'>, clock: Clock, ttlMs = 300_000, maxEntries = 10_000): RouterKeyDirectory {
  const cache = new Map<string, { key: PeerRouterKey; untilMs: number }>();
  return {
    async keyOf(did) {
      const hit = cache.get(did);
      if (hit && hit.untilMs > clock.nowMs()) return hit.key;
      const metadata = await upstream.agentMetadata(did);
      const publicKey = decodeBase64UrlStrict(metadata?.[ROUTER_KEY_METADATA], 32);
      const sandbox = metadata?.[ROUTER_SANDBOX_METADATA];
      if (!publicKey || typeof sandbox !== 'string') return undefined;
      const key = { sandbox, publicKey };
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
      cache.set(did, { key, untilMs: clock.nowMs() + ttlMs });
      return key;
    },
  };
}
