// The relay store (AGENTMESH-WIRE-1.0 §12.3, §12.5) behind the routers: routers post their agent's frames, and fetch
// and acknowledge the frames pending for their agent. Functions hold no WebSockets: the recipient's router learns of a
// new frame over the bus (session = its sandbox) and fetches it here.
// Mitigations: ciphertext only, `plaintext: true` refused (T4-I); per-identity and global rate limits and a quota of
// pending frames and bytes per recipient (T4-D); each envelope's outer data in the receipt chain before the frame is
// stored, so no frame is ever deliverable without its receipt (T4-R); a router posts only as, and fetches / acks only
// for, the agent bound to its own sandbox (T4-S). TTL 72 h, checked on read; dedup by message id.
import { isKarsError } from '../../errors';
import type { Clock } from '../../ports/clock.port';
import type { DocumentStore } from '../../ports/document-store.port';
import type { EdgeLimiter } from '../../ports/edge-limiter.port';
import type { Logger } from '../../ports/logger.port';
import type { MeshNotifier } from '../../ports/mesh-notifier.port';
import type { ReceiptSink } from '../../ports/receipt-sink.port';
import type { RouterCaller } from '../../ports/router-authenticator.port';
import { sha256Hex } from '../../crypto/sha256-hex';
import { answer, forbidden, refuse, type MeshOutcome } from '../mesh-outcome';
import { isOn, type MeshMitigation } from '../mesh-switches';
import { envelopeReceipt } from './envelope-receipt';
import { inboxEntryId, type InboxEntryDoc } from './inbox-entry';
import type { EnvelopeSubject, RelayFrame } from './relay-frame';

export const DEFAULT_RELAY_TTL_MS = 72 * 3600 * 1000;
export const DEFAULT_FETCH_MAX = 100;
/** Per recipient: frames waiting for fetch / ack, and their bytes (T4-D). */
export const DEFAULT_INBOX_MAX_FRAMES = 1000;
export const DEFAULT_INBOX_MAX_BYTES = 64 * 1024 * 1024;

export interface MeshRelayDeps {
  /** Pending frames, partition = recipient DID (container `mesh-inbox`). */
  inbox: DocumentStore;
  /** DID → the sandbox it is bound to (the registry). */
  directory: { sandboxOf(did: string): Promise<string | undefined> };
  /** Global bucket + one bucket per sender identity (core/limits through the EdgeLimiter port). */
  limiter: EdgeLimiter;
  notifier: MeshNotifier;
  receipts: ReceiptSink;
  clock: Clock;
  logger: Logger;
}

export interface MeshRelayOptions {
  /** Mesh name in receipts and the limiter's tenant key. */
  meshId: string;
  ttlMs?: number;
  /** Pending (unacknowledged, unexpired) frames one recipient may hold. Default DEFAULT_INBOX_MAX_FRAMES. */
  inboxMaxFrames?: number;
  /** Their total size in bytes. Default DEFAULT_INBOX_MAX_BYTES. */
  inboxMaxBytes?: number;
  /** Tests only: mitigations to switch off. Never read from configuration. */
  _disable?: readonly MeshMitigation[];
}

export interface MeshRelay {
  post(caller: RouterCaller, frame: RelayFrame, sizeBytes: number): Promise<MeshOutcome>;
  fetchPending(caller: RouterCaller, did: string, max: number): Promise<MeshOutcome>;
  ack(caller: RouterCaller, did: string, messageIds: readonly string[]): Promise<MeshOutcome>;
}

/** Limiter key of a sender identity: a digest, so any DID spelling fits the limiter's id rules. */
export const senderLimitKey = (did: string): string => `did-${sha256Hex(did).slice(0, 32)}`;

export function createMeshRelay(deps: MeshRelayDeps, options: MeshRelayOptions): MeshRelay {
  const { inbox, clock, logger } = deps;
  const ttlMs = options.ttlMs ?? DEFAULT_RELAY_TTL_MS;
  const maxFrames = options.inboxMaxFrames ?? DEFAULT_INBOX_MAX_FRAMES;
  const maxBytes = options.inboxMaxBytes ?? DEFAULT_INBOX_MAX_BYTES;
  const on = (m: MeshMitigation): boolean => isOn(options._disable, m);

  /** The caller's own agent: the DID must be registered and bound to the caller's sandbox. */
  async function ownAgent(caller: RouterCaller, did: string, route: string): Promise<MeshOutcome<never> | undefined> {
    const sandbox = await deps.directory.sandboxOf(did);
    if (sandbox === undefined) return refuse('NOT_FOUND', 'agent not registered');
    if (on('sandbox-binding') && sandbox !== caller.sandboxId) {
      logger.warn('mesh.binding_refused', { route, sandboxId: caller.sandboxId, reason: 'did-bound-elsewhere' });
      return forbidden();
    }
    return undefined;
  }

  async function notify(recipientSandbox: string, frame: RelayFrame, entryId: string): Promise<MeshOutcome<never> | undefined> {
    try {
      await deps.notifier.notify(recipientSandbox, { recipientDid: frame.to, messageId: frame.id }, `mesh-${entryId}`);
      return undefined;
    } catch (e) {
      logger.warn('mesh.notify_failed', { route: 'mesh/relay/frames', code: isKarsError(e) ? e.code : 'INTERNAL', sandboxId: recipientSandbox });
      // The frame stays pending; the sender's retry is answered as a duplicate and notifies again.
      return refuse('BUS_UNAVAILABLE', 'frame stored; notification failed, retry');
    }
  }

  /**
   * Whether one more frame of `sizeBytes` would take the recipient past its pending quota: counts its unacknowledged,
   * unexpired frames (at most maxFrames of them are read). Concurrent posts can overshoot by their number; the
   * per-sender and global rate limits bound that.
   */
  async function inboxFull(recipient: string, sizeBytes: number): Promise<'frames' | 'bytes' | undefined> {
    let frames = 0;
    let bytes = sizeBytes;
    let continuationToken: string | undefined;
    const nowMs = clock.nowMs();
    do {
      const page = await inbox.query<InboxEntryDoc>(
        recipient, { where: [{ field: 'acked', op: '=', value: false }], top: maxFrames },
        { pageSize: Math.min(1000, maxFrames), ...(continuationToken ? { continuationToken } : {}) },
      );
      for (const { doc } of page.items) {
        if (doc.receivedAtMs + ttlMs <= nowMs) continue;
        frames += 1;
        bytes += doc.sizeBytes;
      }
      if (frames >= maxFrames) return 'frames';
      if (bytes > maxBytes) return 'bytes';
      continuationToken = page.continuationToken;
    } while (continuationToken !== undefined);
    return undefined;
  }

  return {
    async post(caller, frame, sizeBytes) {
      const route = 'mesh/relay/frames';
      if (on('plaintext-refusal') && frame.plaintext === true) {
        logger.warn('mesh.plaintext_refused', { route, sandboxId: caller.sandboxId, messageId: frame.id });
        return refuse('MESH_PLAINTEXT_REFUSED', 'plaintext frames are refused: send ciphertext');
      }
      const denied = await ownAgent(caller, frame.from, route);
      if (denied) return denied;
      const recipientSandbox = await deps.directory.sandboxOf(frame.to);
      if (recipientSandbox === undefined) return refuse('NOT_FOUND', 'recipient not registered');

      if (on('rate-limits')) {
        const admission = await deps.limiter.admit(options.meshId, senderLimitKey(frame.from));
        if (admission.outcome !== 'allowed') {
          logger.warn('mesh.rate_limited', { route, sandboxId: caller.sandboxId, reason: admission.scope });
          const retryAfterMs = admission.outcome === 'rate-limited' ? admission.retryAfterMs : 1000;
          return refuse('LIMIT_RATE_EXCEEDED', 'relay rate limit exceeded', retryAfterMs);
        }
      }

      const id = inboxEntryId(frame.id);
      /** A message id already in the recipient's inbox: a retry (idempotent, notify again) or another sender's id. */
      const duplicate = async (): Promise<MeshOutcome> => {
        const existing = await inbox.read<InboxEntryDoc>(frame.to, id);
        if (existing && existing.doc.sender !== frame.from) return refuse('STORE_CONFLICT', 'message id already used');
        // A retry of a stored frame (or one already acked): notify again (the broker drops duplicates).
        if (existing && !existing.doc.acked) {
          const failed = await notify(recipientSandbox, frame, id);
          if (failed) return failed;
        }
        return answer(200, { id: frame.id, status: 'duplicate' });
      };
      if (await inbox.read<InboxEntryDoc>(frame.to, id)) return duplicate();

      if (on('inbox-quota')) {
        const full = await inboxFull(frame.to, sizeBytes);
        if (full) {
          logger.warn('mesh.inbox_full', { route, sandboxId: caller.sandboxId, reason: full });
          return refuse('MESH_INBOX_FULL', 'the recipient has too many pending frames; retry after it fetches');
        }
      }

      const nowMs = clock.nowMs();
      const subject: EnvelopeSubject = {
        mesh: options.meshId, type: frame.type, sender: frame.from, recipient: frame.to, messageId: frame.id,
        frameTs: typeof frame.ts === 'string' ? frame.ts : null, sizeBytes: String(sizeBytes),
        senderSandbox: caller.sandboxId, recipientSandbox,
      };
      if (on('envelope-receipts')) {
        // Receipt first, frame second: a frame is readable by fetch_pending from the moment it is stored, so storing
        // first and taking it back on a failed receipt leaves a window (and a failed take-back) in which an unaudited
        // envelope is delivered. A receipt whose store then fails records an attempt, never a missing delivery.
        try {
          await deps.receipts.append(envelopeReceipt(subject, nowMs, 'accepted', 202));
        } catch (e) {
          logger.error('mesh.receipt_failed', { route, code: isKarsError(e) ? e.code : 'INTERNAL', messageId: frame.id });
          return refuse('DEPENDENCY_UNAVAILABLE', 'audit unavailable; retry');
        }
      }
      const entry: InboxEntryDoc = { id, messageId: frame.id, sender: frame.from, receivedAtMs: nowMs, expiresAtMs: nowMs + ttlMs, sizeBytes, acked: false, frame };
      try {
        await inbox.create(frame.to, entry);
      } catch (e) {
        // Two posts of one message id raced past the read: the other one stored it.
        if (isKarsError(e) && e.code === 'STORE_CONFLICT') return duplicate();
        throw e;
      }
      const failed = await notify(recipientSandbox, frame, id);
      if (failed) return failed;
      return answer(202, { id: frame.id, status: 'queued' });
    },

    async fetchPending(caller, did, max) {
      const denied = await ownAgent(caller, did, 'mesh/relay/pending');
      if (denied) return denied;
      const nowMs = clock.nowMs();
      const page = await inbox.query<InboxEntryDoc>(did, { where: [{ field: 'acked', op: '=', value: false }], orderBy: { field: 'receivedAtMs', direction: 'asc' }, top: max + 1 }, { pageSize: Math.min(1000, max + 1) });
      // TTL on read (§12.3, 72 h): the store hides documents past expiresAtMs; this also holds for entries written with
      // another TTL before a configuration change.
      const live = page.items.filter(({ doc }) => doc.receivedAtMs + ttlMs > nowMs && doc.expiresAtMs > nowMs);
      return answer(200, { frames: live.slice(0, max).map(({ doc }) => doc.frame!), more: page.items.length > max });
    },

    async ack(caller, did, messageIds) {
      const denied = await ownAgent(caller, did, 'mesh/relay/ack');
      if (denied) return denied;
      let removed = 0;
      for (const messageId of messageIds) {
        const id = inboxEntryId(messageId);
        const entry = await inbox.read<InboxEntryDoc>(did, id);
        if (!entry || entry.doc.acked) continue;
        // The content is deleted; a tombstone of the outer fields stays until the TTL so a late re-post of the same
        // message id is still a duplicate (§12.3), not a second delivery.
        const { frame: _content, ...outer } = entry.doc;
        try {
          await inbox.replace(did, { ...outer, acked: true }, { ifMatch: entry.etag });
          removed += 1;
        } catch (e) {
          if (!(isKarsError(e) && (e.code === 'STORE_PRECONDITION_FAILED' || e.code === 'STORE_NOT_FOUND'))) throw e;
        }
      }
      return answer(200, { acked: removed });
    },
  };
}
