// The AGT SDK's MeshClient (`@microsoft/agent-governance-sdk` 4.0.0), loaded by path like agt-sdk.ts and used
// unmodified: `wsFactory` (its own option, for runtimes without a global WebSocket) hands it a `ws` socket, and
// `registryClientOptions.authSigner` (its own option) signs registry calls with the SDK's `ed25519AuthSigner`.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import WebSocket from 'ws';
import { agt, type AgtKeyManager } from './agt-sdk';

const require = createRequire(__filename);
const dist = path.join(process.cwd(), 'node_modules/@microsoft/agent-governance-sdk/dist/encryption');

export interface AgtMeshClient {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  readonly isConnected: boolean;
  establishSessionWithPeer(peer: string): Promise<unknown>;
  send(peer: string, payload: unknown): Promise<void>;
  onMessage(h: (from: string, payload: unknown, plaintext: boolean) => void): void;
  onKnock(h: (from: string, intent: unknown) => boolean | Promise<boolean>): void;
  onError(h: (kind: string, peer: string, detail: string) => void): void;
  onDisconnect(h: (reason: string, code?: number) => void): void;
}

const MeshClient = require(path.join(dist, 'mesh-client.js')).MeshClient as new (o: Record<string, unknown>) => AgtMeshClient;

export interface MeshAgent {
  did: string;
  edPrivate: Uint8Array;
  edPublic: Uint8Array;
  keys: AgtKeyManager;
}

/** An agent whose DID is the AGT relay's proof-of-possession form, `did:mesh:<sha256(ed25519 key)[:32] hex>`. */
export function newMeshAgent(): MeshAgent {
  const edPrivate = agt.ed25519.utils.randomSecretKey();
  const edPublic = agt.ed25519.getPublicKey(edPrivate);
  const did = `did:mesh:${createHash('sha256').update(edPublic).digest('hex').slice(0, 32)}`;
  return { did, edPrivate, edPublic, keys: new agt.X3DHKeyManager(edPrivate, edPublic) };
}

/** An unmodified MeshClient pointed at a router: `relayUrl` → `<router>/agt/relay`, `registryUrl` → `<router>/agt/registry`. */
export function meshClientFor(agent: MeshAgent, routerUrl: string, extra: Record<string, unknown> = {}): AgtMeshClient {
  const ws = routerUrl.replace(/^http/, 'ws');
  return new MeshClient({
    relayUrl: `${ws}/agt/relay`,
    registryUrl: `${routerUrl}/agt/registry`,
    keyManager: agent.keys,
    agentDid: agent.did,
    autoReconnect: false,
    oneTimePrekeyCount: 5,
    wsFactory: (url: string) => new WebSocket(url),
    registryClientOptions: { authSigner: agt.ed25519AuthSigner(agent.did, agent.edPrivate), maxRetries: 0 },
    ...extra,
  });
}
