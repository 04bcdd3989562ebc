// The AGT SDK's encryption module (`@microsoft/agent-governance-sdk` 4.0.0) for interop tests. Its package exports
// only the root, which lacks RegistryClient, so the dist file is loaded by path; the code is used unmodified.
import { createRequire } from 'node:module';
import * as path from 'node:path';

const require = createRequire(__filename);
const dist = path.join(process.cwd(), 'node_modules/@microsoft/agent-governance-sdk/dist/encryption');

export interface AgtSignedPreKey { keyId: number; publicKey: Uint8Array; signature: Uint8Array }
export interface AgtKeyManager {
  readonly identityKey: { publicKey: Uint8Array; privateKey: Uint8Array };
  readonly identityKeyEd: Uint8Array;
  generateSignedPreKey(): AgtSignedPreKey;
  generateOneTimePreKeys(count: number): { keyId: number; publicKey: Uint8Array }[];
}
export interface AgtBundle {
  identityKey: Uint8Array; identityKeyEd: Uint8Array; signedPreKey: Uint8Array; signedPreKeySignature: Uint8Array;
  signedPreKeyId: number; oneTimePreKey?: Uint8Array; oneTimePreKeyId?: number;
}
export interface AgtRegistryClient {
  register(did: string, identityKey: Uint8Array, capabilities?: string[], metadata?: Record<string, string>): Promise<void>;
  getAgent(did: string): Promise<{ did: string; capabilities: string[]; metadata: Record<string, string>; registeredAt: Date } | null>;
  deleteAgent(did: string): Promise<void>;
  uploadPrekeys(did: string, ik: Uint8Array, ikEd: Uint8Array, spk: AgtSignedPreKey, otks: { keyId: number; publicKey: Uint8Array }[]): Promise<void>;
  fetchPrekeys(did: string): Promise<AgtBundle | null>;
  discover(capability: string, limit?: number): Promise<{ did: string; capabilities: string[] }[]>;
}

export const agt = {
  X3DHKeyManager: require(path.join(dist, 'x3dh.js')).X3DHKeyManager as new (priv: Uint8Array, pub: Uint8Array) => AgtKeyManager,
  RegistryClient: require(path.join(dist, 'registry-client.js')).RegistryClient as new (opts: {
    baseUrl: string; fetchImpl?: typeof fetch; authSigner?: { did: string; sign(m: Uint8Array): Uint8Array }; maxRetries?: number;
  }) => AgtRegistryClient,
  ed25519AuthSigner: require(path.join(dist, 'registry-client.js')).ed25519AuthSigner as (did: string, key: Uint8Array) => { did: string; sign(m: Uint8Array): Uint8Array },
  ed25519: require('@noble/curves/ed25519.js').ed25519 as {
    utils: { randomSecretKey(): Uint8Array }; getPublicKey(sk: Uint8Array): Uint8Array; sign(m: Uint8Array, sk: Uint8Array): Uint8Array;
  },
};

export interface TestAgent {
  did: string;
  edPrivate: Uint8Array;
  keys: AgtKeyManager;
}

export function newAgent(name: string): TestAgent {
  const edPrivate = agt.ed25519.utils.randomSecretKey();
  return { did: `did:mesh:${name}`, edPrivate, keys: new agt.X3DHKeyManager(edPrivate, agt.ed25519.getPublicKey(edPrivate)) };
}

/** `Ed25519-Timestamp <did> <ts> <sig>` as the AGT client builds it, at `atMs`. */
export function ed25519TimestampHeader(agent: TestAgent, atMs: number, signWith: Uint8Array = agent.edPrivate): string {
  const ts = new Date(atMs).toISOString();
  return `Ed25519-Timestamp ${agent.did} ${ts} ${Buffer.from(agt.ed25519.sign(new TextEncoder().encode(ts), signWith)).toString('base64url')}`;
}

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/** The PUT …/prekeys body the AGT RegistryClient sends. */
export function prekeyBody(agent: TestAgent, opkCount: number): Record<string, unknown> {
  const spk = agent.keys.generateSignedPreKey();
  return {
    identity_key: b64u(agent.keys.identityKey.publicKey),
    identity_key_ed: b64u(agent.keys.identityKeyEd),
    signed_pre_key: { key_id: spk.keyId, public_key: b64u(spk.publicKey), signature: b64u(spk.signature) },
    one_time_pre_keys: agent.keys.generateOneTimePreKeys(opkCount).map((o) => ({ key_id: o.keyId, public_key: b64u(o.publicKey) })),
  };
}

export const registerBody = (agent: TestAgent, capabilities: string[] = []): Record<string, unknown> =>
  ({ did: agent.did, public_key: b64u(agent.keys.identityKey.publicKey), capabilities, metadata: {} });
