// What the router bridge reaches on the Functions app (AGENTMESH-WIRE-1.0 §11 registry, §12 relay store): every call
// carries the router's own projected service-account token, never anything of the agent's but its Ed25519-Timestamp
// header on registry calls.
export interface UpstreamRegistryRequest {
  readonly method: string;
  /** Below the registry root, e.g. `v1/agents/did%3Amesh%3Aabc/prekeys` (kept encoded as the client sent it). */
  readonly path: string;
  /** Raw query string without `?` ('' when none). */
  readonly query: string;
  readonly authorization?: string;
  readonly contentType?: string;
  readonly body?: Uint8Array;
}

export interface UpstreamAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Uint8Array;
}

export interface PendingPage {
  readonly frames: readonly Record<string, unknown>[];
  readonly more: boolean;
}

export interface MeshUpstream {
  /** @throws KarsError DEPENDENCY_UNAVAILABLE | DEPENDENCY_TIMEOUT | IDENTITY_UNAVAILABLE (no router token) */
  registry(request: UpstreamRegistryRequest): Promise<UpstreamAnswer>;
  /** Posts one frame to the relay store; the answer is passed on (202 queued, 200 duplicate, 4xx refused). */
  postFrame(frame: Record<string, unknown>): Promise<UpstreamAnswer>;
  /** The frames pending for `did` (the router's own agent). @throws KarsError on any non-200 */
  fetchPending(did: string, max: number): Promise<PendingPage>;
  /** Deletes delivered frames at the relay store. @throws KarsError on any non-200 */
  ack(did: string, ids: readonly string[]): Promise<void>;
  /** A registered agent's metadata (where its router published its sandbox key); undefined when not registered. */
  agentMetadata(did: string): Promise<Readonly<Record<string, string>> | undefined>;
}
