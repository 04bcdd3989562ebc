// Two sandbox routers' bridges (core/mesh/bridge) over the in-process mesh fixture (the real mesh routes, registry,
// relay store and router authenticator over memory stores): each bridge reaches the routes with its own sandbox's
// router token, exactly as sandbox-node/router/mesh/functions-mesh-upstream.ts does over HTTP. Each agent socket is
// an in-memory link that records what the agent was sent.
import { generateKeyPairSync } from 'node:crypto';
import { createMeshBridge, type AgentLink, type BridgeConnection, type MeshBridge } from '../../core/mesh/bridge/mesh-bridge';
import type { BridgeMitigation } from '../../core/mesh/bridge/bridge-switches';
import { loadDidBinding } from '../../core/mesh/bridge/did-binding';
import { registryRouterKeys } from '../../core/mesh/bridge/registry-router-keys';
import { sandboxSignerFromSeed, type SandboxSigner } from '../../core/mesh/bridge/router-countersignature';
import type { MeshUpstream, UpstreamAnswer } from '../../core/ports/mesh-upstream.port';
import type { RequestReceipt, ReceiptSink } from '../../core/ports/receipt-sink.port';
import type { TrustScoreSource } from '../../core/ports/trust-score.port';
import { captureLogs } from '../support/log-sink';
import { agt, ed25519TimestampHeader, prekeyBody, type TestAgent } from './agt-sdk';
import { createMeshFixture, type MeshFixture } from './mesh-fixture';

export function newSandboxSigner(sandboxId: string): SandboxSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return sandboxSignerFromSeed(sandboxId, new Uint8Array(seed), new Uint8Array(pub));
}

/** MeshUpstream through the fixture's route handlers, as the router token of `sandbox`. */
export function fixtureUpstream(f: MeshFixture, sandbox: string): MeshUpstream {
  const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
  const answer = (r: { status: number; body: unknown }): UpstreamAnswer => ({ status: r.status, contentType: 'application/json', body: enc(r.body) });
  return {
    async registry(r) {
      const body = r.body ? JSON.parse(new TextDecoder().decode(r.body)) as unknown : undefined;
      return answer(await f.call(r.method, `mesh/${r.path}${r.query ? `?${r.query}` : ''}`, { sandbox, ...(body !== undefined ? { body } : {}), ...(r.authorization ? { authorization: r.authorization } : {}) }));
    },
    async postFrame(frame) {
      return answer(await f.call('POST', 'mesh/relay/frames', { sandbox, body: frame }));
    },
    async fetchPending(did, max) {
      const r = await f.call('POST', 'mesh/relay/pending', { sandbox, body: { did, max } });
      if (r.status !== 200) throw new Error(`pending ${r.status}`);
      return { frames: r.body.frames, more: r.body.more };
    },
    async ack(did, ids) {
      const r = await f.call('POST', 'mesh/relay/ack', { sandbox, body: { did, ids } });
      if (r.status !== 200) throw new Error(`ack ${r.status}`);
    },
    async agentMetadata(did) {
      const r = await f.call('GET', `mesh/v1/agents/${encodeURIComponent(did)}`, { sandbox });
      return r.status === 200 ? r.body.metadata : undefined;
    },
  };
}

/** What an agent socket received, and the handle to send frames as the agent. */
export interface TestSocket {
  readonly received: Record<string, unknown>[];
  readonly closes: { code: number; reason: string }[];
  readonly conn: BridgeConnection;
  send(frame: Record<string, unknown>): Promise<void>;
}

export function openSocket(bridge: MeshBridge): TestSocket {
  const received: Record<string, unknown>[] = [];
  const closes: { code: number; reason: string }[] = [];
  let open = true;
  const link: AgentLink = {
    async send(frame) {
      if (!open) throw new Error('closed');
      received.push(JSON.parse(JSON.stringify(frame)) as Record<string, unknown>);
    },
    close(code, reason) {
      open = false;
      closes.push({ code, reason });
    },
  };
  const conn = bridge.attach(link);
  return { received, closes, conn, send: (frame) => conn.receive(JSON.stringify(frame)) };
}

export interface TestRouter {
  sandbox: string;
  bridge: MeshBridge;
  signer: SandboxSigner;
  receipts: RequestReceipt[];
  upstream: MeshUpstream;
}

export async function startTestRouter(
  f: MeshFixture, sandbox: string,
  o: { trust?: TrustScoreSource; threshold?: number; disable?: BridgeMitigation[]; agentDid?: string } = {},
): Promise<TestRouter> {
  const upstream = fixtureUpstream(f, sandbox);
  const signer = newSandboxSigner(sandbox);
  const receipts: RequestReceipt[] = [];
  const sink: ReceiptSink = { async append(r) { receipts.push(r); return r.requestHash; } };
  let n = 0;
  const bridge = createMeshBridge({
    upstream, signer, binding: await loadDidBinding(undefined, o.agentDid),
    peerKeys: registryRouterKeys(upstream, f.clock), trust: o.trust ?? fixedTrust({}), receipts: sink, clock: f.clock,
    logger: captureLogs({ component: `router-${sandbox}` }).logger, newId: () => `${sandbox}-auto-${++n}`,
  }, { trustThreshold: o.threshold ?? 500, ...(o.disable ? { _disable: o.disable } : {}) });
  return { sandbox, bridge, signer, receipts, upstream };
}

/** A fixed trust table (the live adapter is adapters/mesh/http-trust-score-source.ts). */
export const fixedTrust = (table: Record<string, number>): TrustScoreSource => ({ async scoreOf(did) { return table[did]; } });

/** Registers `agent` with prekeys through the router's `/agt/registry` path, as the AGT RegistryClient does. */
export async function registerThrough(router: TestRouter, agent: TestAgent, nowMs: number): Promise<void> {
  const json = (v: unknown) => ({ json: v, bytes: new TextEncoder().encode(JSON.stringify(v)) });
  const reg = await router.bridge.registry({
    method: 'POST', path: 'v1/agents', query: '', authorization: undefined, contentType: 'application/json',
    ...json({ did: agent.did, public_key: Buffer.from(agent.keys.identityKey.publicKey).toString('base64url'), capabilities: [], metadata: {} }),
  });
  if (reg.kind !== 'upstream' || reg.answer.status !== 201) throw new Error(`register ${JSON.stringify(reg)}`);
  const up = await router.bridge.registry({
    method: 'PUT', path: `v1/agents/${encodeURIComponent(agent.did)}/prekeys`, query: '', authorization: ed25519TimestampHeader(agent, nowMs), contentType: 'application/json',
    ...json(prekeyBody(agent, 2)),
  });
  if (up.kind !== 'upstream' || up.answer.status !== 200) throw new Error(`prekeys ${JSON.stringify(up)}`);
}

/** A KNOCK as the AGT 4.x MeshClient sends it (mesh-client.js establishSession). */
export function knockFrame(from: string, to: string, id: string, nowMs: number): Record<string, unknown> {
  return {
    v: 1, type: 'knock', from, to, id, ts: new Date(nowMs).toISOString(), intent: { action: 'establish_session' },
    establishment: { ik: Buffer.alloc(32, 1).toString('base64'), ek: Buffer.alloc(32, 2).toString('base64'), otk: 1 },
  };
}

export { agt, createMeshFixture };
export type { MeshFixture };
