// Test fixture of the trust plane over memory adapters: a settable clock, issuer keys, a signer of updates, the
// admission and apply dependencies, and a queue that hands admitted messages to the applier on demand.
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { MemoryDocumentStore } from '../../../adapters/memory/memory-document-store';
import { createMemoryReceiptSink, type MemoryReceiptSink } from '../../../adapters/memory/memory-edge-receipts';
import { createDocumentReplayGuard } from '../../../adapters/edge/document-replay-guard';
import { createDocumentTrustGraphStore } from '../../../adapters/trust/document-trust-graph-store';
import { createDocumentTrustIssuerRegistry, type DocumentTrustIssuerRegistry } from '../../../adapters/trust/document-trust-issuer-registry';
import type { TrustGraphSource, TrustGraphStore } from '../../../core/ports/trust-graph-store.port';
import type { TrustQueueMessage } from '../../../core/ports/trust-update-queue.port';
import { admitTrustBatch, type AdmitTrustResult } from '../../../core/trust/admit-trust-batch';
import { applyTrustMessage, type ApplyTrustOutcome } from '../../../core/trust/apply-trust-message';
import { effectiveTrust, type EffectiveTrust } from '../../../core/trust/transitive-trust';
import { resolveTrustPolicy, type TrustMitigation, type TrustPolicy } from '../../../core/trust/trust-policy';
import { signTrustPayload, trustIssuerKey } from '../../../core/trust/trust-signature';
import type { SignedTrustUpdate, TrustPayload } from '../../../core/trust/trust-update';
import { settableClock, type SettableClock } from '../edge/edge-fixture';

export interface Issuer {
  readonly privateKey: KeyObject;
  readonly key: string;
}

export function newIssuer(): Issuer {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, key: trustIssuerKey(privateKey) };
}

export const TENANT = 'tenant-a';

export function payload(issuer: Issuer, atMs: number, update: TrustPayload['update'], overrides: Partial<TrustPayload> = {}): TrustPayload {
  return {
    v: 1, tenantId: TENANT, issuer: issuer.key, issuedAtSec: Math.floor(atMs / 1000), nonce: randomBytes(16).toString('base64url'),
    update, ...overrides,
  };
}

export function signed(issuer: Issuer, atMs: number, update: TrustPayload['update'], overrides: Partial<TrustPayload> = {}): SignedTrustUpdate {
  return signTrustPayload(payload(issuer, atMs, update, overrides), issuer.privateKey);
}

export interface TrustFixture {
  readonly clock: SettableClock;
  readonly issuer: Issuer;
  readonly registry: DocumentTrustIssuerRegistry;
  readonly graphs: TrustGraphStore & TrustGraphSource;
  readonly receipts: MemoryReceiptSink;
  readonly queued: TrustQueueMessage[];
  readonly policy: TrustPolicy;
  admit(updates: SignedTrustUpdate[]): Promise<AdmitTrustResult>;
  /** Applies every queued message in order (as the session receiver would). */
  drain(): Promise<ApplyTrustOutcome[]>;
  trust(observer: string, subject: string): Promise<EffectiveTrust>;
  signal(observer: string, subject: string, kind: 'success' | 'failure' | 'content-safety' | 'explicit', delta?: number): SignedTrustUpdate;
  edge(from: string, to: string, weight: number): SignedTrustUpdate;
}

export async function createTrustFixture(options: { _disable?: readonly TrustMitigation[] } = {}): Promise<TrustFixture> {
  const clock = settableClock();
  const docs = new MemoryDocumentStore({ clock });
  const replayDocs = new MemoryDocumentStore({ clock });
  const registry = createDocumentTrustIssuerRegistry(docs);
  const graphs = createDocumentTrustGraphStore(docs);
  const receipts = createMemoryReceiptSink();
  const issuer = newIssuer();
  await registry.setIssuers(TENANT, [issuer.key]);
  const queued: TrustQueueMessage[] = [];
  const policy = resolveTrustPolicy(options._disable ? { _disable: options._disable } : {});
  const admitDeps = {
    issuers: registry, replay: createDocumentReplayGuard(replayDocs), receipts, clock,
    queue: { enqueue: async (m: readonly TrustQueueMessage[]) => void queued.push(...m) },
  };
  const applyDeps = { store: graphs, issuers: registry, receipts, clock, policy };
  return {
    clock, issuer, registry, graphs, receipts, queued, policy,
    admit: (updates) => admitTrustBatch(admitDeps, { updates }, { _disable: options._disable }),
    async drain() {
      const out: ApplyTrustOutcome[] = [];
      // JSON round trip: what the bus carries.
      for (const m of queued.splice(0)) out.push(await applyTrustMessage(applyDeps, JSON.parse(JSON.stringify(m))));
      return out;
    },
    async trust(observer, subject) {
      const read = await graphs.read(TENANT, -1);
      if (!read.changed) throw new Error('unreachable');
      return effectiveTrust(read.graph, observer, subject, clock.nowMs(), policy);
    },
    signal: (observer, subject, kind, delta) =>
      signed(issuer, clock.nowMs(), { type: 'signal', observer, subject, kind, ...(delta !== undefined ? { delta } : {}) }),
    edge: (from, to, weight) => signed(issuer, clock.nowMs(), { type: 'edge', from, to, weight }),
  };
}
