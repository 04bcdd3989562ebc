// The router bridge (ARCHITECTURE §4): the agent's AGT MeshClient talks to `ws://127.0.0.1:8443/agt/relay`; the router
// posts its frames to the Functions relay store and pushes the frames pending for its agent back, acknowledging each
// at the store once the agent has it (a `message` when the agent acks it; KNOCK-family frames, which the 4.x client
// never acks, once written to the socket). One connection state machine per socket: awaiting-connect → connected →
// closed. The daemon's socket server is thin: text in, frames out.
// T4-S: DID binding both ways, countersignature out, countersignature / freshness / replay / trust in (inbound-gate.ts);
// T4-I: `plaintext: true` refused both ways.
import { isKarsError, type KarsErrorCode } from '../../errors';
import type { Clock } from '../../ports/clock.port';
import type { Logger } from '../../ports/logger.port';
import type { MeshUpstream } from '../../ports/mesh-upstream.port';
import type { ReceiptSink } from '../../ports/receipt-sink.port';
import type { TrustScoreSource } from '../../ports/trust-score.port';
import { httpStatusOf } from '../../errors';
import { parseAgentFrame } from './agent-frames';
import { bridgeReceipt, type BridgeSubject } from './bridge-receipt';
import { bridgeOn, type BridgeMitigation } from './bridge-switches';
import { checkConnectProof } from './connect-proof';
import type { DidBinding } from './did-binding';
import { DEFAULT_TRUST_THRESHOLD, frameKey, gateInbound, COUNTERSIGNATURE_TOLERANCE_SEC } from './inbound-gate';
import { createRegistryForward, type RegistryCall, type RegistryAnswer } from './registry-forward';
import type { RouterKeyDirectory } from './registry-router-keys';
import { createReplayWindow } from './replay-window';
import { COUNTERSIGNED_TYPES, countersign, type SandboxSigner } from './router-countersignature';

/** WebSocket close codes the bridge uses (RFC 6455 §7.4: 1008 policy violation; 4000 replaced by a newer socket). */
export const CLOSE_POLICY = 1008;
export const CLOSE_REPLACED = 4000;

export interface AgentLink {
  /** Resolves once the frame is written to the socket. @throws when the socket is gone */
  send(frame: Record<string, unknown>): Promise<void>;
  close(code: number, reason: string): void;
}

export interface BridgeConnection {
  /** One text frame from the agent; frames of one socket are handled in order. */
  receive(text: string): Promise<void>;
  /** The socket closed. */
  closed(): void;
  /** True once a `connect` was accepted on this socket. */
  readonly identified: boolean;
}

export interface MeshBridgeDeps {
  upstream: MeshUpstream;
  binding: DidBinding;
  signer: SandboxSigner;
  peerKeys: RouterKeyDirectory;
  trust: TrustScoreSource;
  receipts: ReceiptSink;
  clock: Clock;
  logger: Logger;
  newId(): string;
}

export interface MeshBridgeOptions {
  trustThreshold?: number;
  toleranceSec?: number;
  /** Frames fetched per relay call (the relay store's maximum is 100). */
  fetchMax?: number;
  /** Tests only: mitigations to switch off. Never read from configuration. */
  _disable?: readonly BridgeMitigation[];
}

export interface MeshBridge {
  attach(link: AgentLink): BridgeConnection;
  registry(call: RegistryCall): Promise<RegistryAnswer>;
  /** A note (or a poll tick) that frames may wait: fetch and deliver. Concurrent calls coalesce. */
  pendingNoted(): Promise<void>;
  /** The connected agent socket, if any (tests, health). */
  readonly connected: boolean;
  /** Closes every agent socket (router drain). */
  closeAll(): void;
}

interface Conn {
  link: AgentLink;
  did: string | undefined;
  /** `message` frames written to this socket, awaiting the agent's ack. */
  awaitingAck: Set<string>;
  queue: Promise<void>;
  open: boolean;
}

export function createMeshBridge(deps: MeshBridgeDeps, options: MeshBridgeOptions = {}): MeshBridge {
  const { upstream, binding, signer, clock, logger } = deps;
  const on = (m: BridgeMitigation): boolean => bridgeOn(options._disable, m);
  const toleranceSec = options.toleranceSec ?? COUNTERSIGNATURE_TOLERANCE_SEC;
  const trustThreshold = options.trustThreshold ?? DEFAULT_TRUST_THRESHOLD;
  const fetchMax = options.fetchMax ?? 100;
  const connectReplay = createReplayWindow();
  const consumed = createReplayWindow();
  /** `message` ids the agent acknowledged: never pushed again, even while the relay's ack is still in flight. */
  const agentAcked = createReplayWindow();
  const ACK_MEMORY_MS = 72 * 3600 * 1000;
  /** Inbound KNOCK-family frames already checked (key from|id), so a redelivery after a reconnect is not re-judged. */
  const checked = new Map<string, Record<string, unknown>>();
  const registryForward = createRegistryForward({ upstream, binding, signer, logger }, options._disable ? { _disable: options._disable } : {});
  let active: Conn | undefined;
  let pumping: Promise<void> | undefined;
  let again = false;

  const audit = async (subject: Omit<BridgeSubject, 'sandboxId' | 'atMs'>, code: KarsErrorCode, reason: string): Promise<void> => {
    logger.warn('mesh.bridge_refused', { sandboxId: signer.sandboxId, code, reason, messageId: subject.messageId ?? undefined, route: `agt/relay/${subject.direction}` });
    try {
      await deps.receipts.append(bridgeReceipt({ sandboxId: signer.sandboxId, ...subject }, clock.nowMs(), httpStatusOf(code), code));
    } catch (e) {
      logger.error('mesh.bridge_receipt_failed', { sandboxId: signer.sandboxId, code: isKarsError(e) ? e.code : 'INTERNAL' });
    }
  };
  const subjectOf = (f: Record<string, unknown>, direction: 'inbound' | 'outbound', decision: string): Omit<BridgeSubject, 'sandboxId' | 'atMs'> => ({
    direction, decision,
    type: typeof f.type === 'string' ? f.type.slice(0, 32) : null,
    sender: typeof f.from === 'string' ? f.from.slice(0, 256) : null,
    recipient: typeof f.to === 'string' ? f.to.slice(0, 256) : null,
    messageId: typeof f.id === 'string' ? f.id.slice(0, 128) : null,
  });

  const sendError = async (conn: Conn, code: KarsErrorCode, message: string, id?: string): Promise<void> => {
    await conn.link.send({ v: 1, type: 'error', ...(id ? { id } : {}), code, message }).catch(() => undefined);
  };
  const refuseConnect = async (conn: Conn, code: KarsErrorCode, message: string, reason: string): Promise<void> => {
    logger.warn('mesh.bridge_connect_refused', { sandboxId: signer.sandboxId, code, reason });
    await sendError(conn, code, message);
    conn.open = false;
    conn.link.close(CLOSE_POLICY, code);
  };

  /** Closes sockets connected as a DID other than the one just bound. */
  const enforceBinding = (): void => {
    const bound = binding.current();
    if (on('did-binding') && active && active.did !== undefined && bound !== undefined && active.did !== bound) {
      const stale = active;
      active = undefined;
      stale.open = false;
      stale.link.close(CLOSE_POLICY, 'MESH_DID_MISMATCH');
    }
  };

  async function onConnect(conn: Conn, frame: Parameters<typeof checkConnectProof>[0]): Promise<void> {
    const proof = checkConnectProof(frame, clock.nowMs(), connectReplay, on('connect-proof'), toleranceSec);
    if (proof.kind === 'refused') return refuseConnect(conn, 'MESH_CONNECT_PROOF_INVALID', 'connect proof refused', proof.reason);
    if (on('did-binding') && !binding.admits(frame.from)) return refuseConnect(conn, 'MESH_DID_MISMATCH', 'this router acts for another agent DID', 'connect');
    conn.did = frame.from;
    if (active && active !== conn) {
      const old = active;
      old.open = false;
      old.link.close(CLOSE_REPLACED, 'replaced by a newer connection');
    }
    active = conn;
    logger.info('mesh.bridge_connected', { sandboxId: signer.sandboxId, reason: proof.kind });
  }

  async function onRelayed(conn: Conn, frame: Record<string, unknown> & { type: string; from: string; id: string }): Promise<void> {
    if (conn.did === undefined) return sendError(conn, 'MESH_CONNECT_REQUIRED', 'send connect first', frame.id);
    if (on('did-binding')) {
      const bound = binding.current();
      if (frame.from !== conn.did || bound === undefined || frame.from !== bound) {
        await audit(subjectOf(frame, 'outbound', 'refused'), 'MESH_DID_MISMATCH', bound === undefined ? 'unbound' : 'from');
        return sendError(conn, 'MESH_DID_MISMATCH', 'this router acts for another agent DID', frame.id);
      }
    }
    if (on('plaintext-refusal') && frame.plaintext === true) {
      await audit(subjectOf(frame, 'outbound', 'refused'), 'MESH_PLAINTEXT_REFUSED', 'plaintext');
      return sendError(conn, 'MESH_PLAINTEXT_REFUSED', 'plaintext frames are refused: send ciphertext', frame.id);
    }
    let out: Record<string, unknown> = frame;
    if (COUNTERSIGNED_TYPES.has(frame.type)) {
      try {
        out = countersign(frame, signer, clock.nowMs());
      } catch {
        return sendError(conn, 'MESH_FRAME_INVALID', 'frame has a value without a canonical encoding', frame.id);
      }
    }
    try {
      const answer = await upstream.postFrame(out);
      if (answer.status >= 300) {
        const body = safeJson(answer.body) as { code?: unknown; message?: unknown } | undefined;
        const code = typeof body?.code === 'string' ? body.code : 'DEPENDENCY_UNAVAILABLE';
        await conn.link.send({ v: 1, type: 'error', id: frame.id, code, message: typeof body?.message === 'string' ? body.message : 'relay refused the frame' }).catch(() => undefined);
      }
    } catch (e) {
      await sendError(conn, isKarsError(e) ? e.code : 'DEPENDENCY_UNAVAILABLE', 'relay unavailable; retry', frame.id);
    }
  }

  async function onAck(conn: Conn, id: string): Promise<void> {
    const did = binding.current() ?? conn.did;
    if (!conn.awaitingAck.has(id) || did === undefined) return;
    // Remembered before the relay's ack: a fetch racing it must not push the frame again (a duplicate ratchet
    // message would tear the agent's session down).
    agentAcked.claim(id, clock.nowMs() + ACK_MEMORY_MS, clock.nowMs());
    conn.awaitingAck.delete(id);
    await upstream.ack(did, [id]).catch((e: unknown) => {
      // The frame stays pending and is pushed again on the next fetch; the client's ratchet drops the duplicate.
      logger.warn('mesh.bridge_ack_failed', { sandboxId: signer.sandboxId, code: isKarsError(e) ? e.code : 'INTERNAL' });
    });
  }

  async function autoReject(knock: Record<string, unknown>, did: string): Promise<void> {
    const reject = countersign({
      v: 1, type: 'knock_reject', from: did, to: knock.from, id: deps.newId(), knock_id: knock.id, reason: 'insufficient_trust', ts: new Date(clock.nowMs()).toISOString(),
    }, signer, clock.nowMs());
    const answer = await upstream.postFrame(reject);
    if (answer.status >= 300) logger.warn('mesh.bridge_auto_reject_failed', { sandboxId: signer.sandboxId, status: answer.status });
  }

  async function pumpOnce(): Promise<void> {
    // Nothing is fetched before a DID is bound (the connected DID is not registered yet).
    const did = binding.current() ?? (on('did-binding') ? undefined : active?.did);
    if (did === undefined) return;
    for (let page = 0; page < 20; page += 1) {
      const { frames, more } = await upstream.fetchPending(did, fetchMax);
      const toAck: string[] = [];
      let progressed = false;
      for (const frame of frames) {
        const key = frameKey(frame);
        const id = String(frame.id);
        if (agentAcked.has(id, clock.nowMs())) {
          toAck.push(id);
          continue;
        }
        let deliver = checked.get(key);
        if (deliver === undefined) {
          const verdict = await gateInbound(frame, did, { peerKeys: deps.peerKeys, trust: deps.trust, consumed, clock }, { trustThreshold, toleranceSec, ...(options._disable ? { _disable: options._disable } : {}) });
          if (verdict.kind !== 'deliver') {
            if (verdict.kind === 'reject') await autoReject(frame, did);
            await audit(subjectOf(frame, 'inbound', verdict.kind === 'reject' ? 'auto-rejected' : 'refused'), verdict.code, verdict.reason);
            toAck.push(id);
            continue;
          }
          deliver = verdict.frame;
          if (COUNTERSIGNED_TYPES.has(String(frame.type))) {
            if (checked.size >= 10_000) checked.delete(checked.keys().next().value!);
            checked.set(key, deliver);
          }
        }
        const conn = active;
        if (!conn || !conn.open || conn.awaitingAck.has(id)) continue;
        try {
          await conn.link.send(deliver);
        } catch {
          continue; // the socket went away: the frame stays pending for the next connection
        }
        progressed = true;
        if (frame.type === 'message') {
          conn.awaitingAck.add(id);
        } else {
          toAck.push(id);
          checked.delete(key);
          consumed.claim(key, clock.nowMs() + ACK_MEMORY_MS, clock.nowMs());
        }
      }
      if (toAck.length > 0) await upstream.ack(did, toAck);
      if (!more || (toAck.length === 0 && !progressed)) return;
    }
  }

  const pendingNoted = (): Promise<void> => {
    if (pumping) {
      again = true;
      return pumping;
    }
    const run = (async () => {
      do {
        again = false;
        try {
          await pumpOnce();
        } catch (e) {
          logger.warn('mesh.bridge_fetch_failed', { sandboxId: signer.sandboxId, code: isKarsError(e) ? e.code : 'INTERNAL' });
          again = false;
        }
      } while (again);
    })().finally(() => {
      pumping = undefined;
    });
    pumping = run;
    return run;
  };

  async function handle(conn: Conn, text: string): Promise<void> {
    if (!conn.open) return;
    const parsed = parseAgentFrame(text);
    if (!parsed.ok) return sendError(conn, 'MESH_FRAME_INVALID', parsed.message);
    const f = parsed.value;
    if (f.kind === 'connect') return onConnect(conn, f.frame);
    if (conn.did === undefined) return sendError(conn, 'MESH_CONNECT_REQUIRED', 'send connect first');
    switch (f.kind) {
      case 'relayed': return onRelayed(conn, f.frame);
      case 'ack': return onAck(conn, f.id);
      case 'fetch_pending': {
        // Frames pushed to an earlier socket and not acked go out again on this one.
        void pendingNoted();
        return;
      }
      case 'heartbeat': return;
      case 'disconnect': {
        conn.open = false;
        if (active === conn) active = undefined;
        conn.link.close(1000, 'disconnect');
        return;
      }
    }
  }

  return {
    attach(link) {
      const conn: Conn = { link, did: undefined, awaitingAck: new Set(), queue: Promise.resolve(), open: true };
      return {
        receive(text) {
          const run = conn.queue.then(() => handle(conn, text));
          conn.queue = run.catch((e: unknown) => {
            logger.error('mesh.bridge_bug', { sandboxId: signer.sandboxId, code: isKarsError(e) ? e.code : 'INTERNAL' });
          });
          return conn.queue;
        },
        closed() {
          conn.open = false;
          if (active === conn) active = undefined;
        },
        get identified() {
          return conn.did !== undefined && conn.open;
        },
      };
    },
    async registry(call) {
      const answer = await registryForward(call);
      enforceBinding();
      return answer;
    },
    pendingNoted,
    get connected() {
      return active !== undefined && active.open;
    },
    closeAll() {
      if (active) {
        active.open = false;
        active.link.close(1001, 'router shutting down');
        active = undefined;
      }
    },
  };
}

function safeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}
