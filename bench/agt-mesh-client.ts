// The AGT SDK's MeshClient (`@microsoft/agent-governance-sdk` 4.0.0), unmodified, for the mesh latency bench; the same
// construction as tests/mesh/agt-mesh-client.ts (which the build cannot compile: its module-level `require` clashes
// with CommonJS output). The package exports only its root, which lacks MeshClient, so the dist files load by path.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import WebSocket from 'ws';

const load = createRequire(__filename);
const dist = path.join(process.cwd(), 'node_modules/@microsoft/agent-governance-sdk/dist/encryption');

export interface AgtMeshClient {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  establishSessionWithPeer(peer: string): Promise<unknown>;
  send(peer: string, payload: unknown): Promise<void>;
  onMessage(h: (from: string, payload: unknown, plaintext: boolean) => void): void;
  onKnock(h: (from: string, intent: unknown) => boolean | Promise<boolean>): void;
  onError(h: (kind: string, peer: string, detail: string) => void): void;
}

interface Ed25519 { utils: { randomSecretKey(): Uint8Array }; getPublicKey(sk: Uint8Array): Uint8Array }
export interface MeshAgent { did: string; edPrivate: Uint8Array; keys: unknown }

/** An agent whose DID is the AGT relay's proof-of-possession form, `did:mesh:<sha256(ed25519 key)[:32] hex>`. */
export function newMeshAgent(): MeshAgent {
  const ed = load('@noble/curves/ed25519.js').ed25519 as Ed25519;
  const X3DHKeyManager = load(path.join(dist, 'x3dh.js')).X3DHKeyManager as new (priv: Uint8Array, pub: Uint8Array) => unknown;
  const edPrivate = ed.utils.randomSecretKey();
  const edPublic = ed.getPublicKey(edPrivate);
  const did = `did:mesh:${createHash('sha256').update(edPublic).digest('hex').slice(0, 32)}`;
  return { did, edPrivate, keys: new X3DHKeyManager(edPrivate, edPublic) };
}

/** An unmodified MeshClient pointed at a router: `relayUrl` → `<router>/agt/relay`, `registryUrl` → `<router>/agt/registry`. */
export function meshClientFor(agent: MeshAgent, routerUrl: string, extra: Record<string, unknown> = {}): AgtMeshClient {
  const MeshClient = load(path.join(dist, 'mesh-client.js')).MeshClient as new (o: Record<string, unknown>) => AgtMeshClient;
  const signer = load(path.join(dist, 'registry-client.js')).ed25519AuthSigner as (did: string, key: Uint8Array) => unknown;
  return new MeshClient({
    relayUrl: `${routerUrl.replace(/^http/, 'ws')}/agt/relay`,
    registryUrl: `${routerUrl}/agt/registry`,
    keyManager: agent.keys,
    agentDid: agent.did,
    autoReconnect: false,
    oneTimePrekeyCount: 5,
    wsFactory: (url: string) => new WebSocket(url),
    registryClientOptions: { authSigner: signer(agent.did, agent.edPrivate), maxRetries: 0 },
    ...extra,
  });
}
