// T4-E: the applier behind the queue. It re-verifies what it applies (the queue is a trust boundary), applies a
// redelivered message once, and never loses a concurrent applier's update (ETag replace, retried).
import { describe, expect, it } from 'vitest';
import { applyTrustMessage } from '../../../core/trust/apply-trust-message';
import { KarsError } from '../../../core/errors';
import { admitTrustBatch } from '../../../core/trust/admit-trust-batch';
import { createDocumentReplayGuard } from '../../../adapters/edge/document-replay-guard';
import { MemoryDocumentStore } from '../../../adapters/memory/memory-document-store';
import { createTrustFixture, newIssuer, signed, TENANT } from './trust-fixture';

const OBS = 'sandbox-1';

describe('applyTrustMessage', () => {
  it('drops a message put on the queue directly with a forged or foreign-signed update, and receipts why', async () => {
    const f = await createTrustFixture();
    const deps = { store: f.graphs, issuers: f.registry, receipts: f.receipts, clock: f.clock, policy: f.policy };
    const u = f.signal(OBS, 'did:web:x', 'explicit', 200);
    const forged = { ...u, payload: { ...u.payload, update: { ...u.payload.update, delta: -200 } } };
    expect(await applyTrustMessage(deps, { tenantId: TENANT, subject: 'did:web:x', updates: [forged] }))
      .toEqual({ status: 'dropped', code: 'TRUST_SIGNATURE_INVALID' });
    const foreign = signed(newIssuer(), f.clock.nowMs(), { type: 'signal', observer: OBS, subject: 'did:web:x', kind: 'explicit', delta: 200 });
    expect(await applyTrustMessage(deps, { tenantId: TENANT, subject: 'did:web:x', updates: [foreign] }))
      .toEqual({ status: 'dropped', code: 'TRUST_ISSUER_UNAUTHORIZED' });
    // An update filed under another subject's session would break per-subject order.
    expect(await applyTrustMessage(deps, { tenantId: TENANT, subject: 'did:web:other', updates: [u] }))
      .toEqual({ status: 'dropped', code: 'INPUT_INVALID' });
    expect(await applyTrustMessage(deps, 'not a message')).toEqual({ status: 'dropped', code: 'INPUT_INVALID' });
    expect(f.receipts.receipts.map((r) => [r.kind, r.outcome, r.code])).toEqual([
      ['trust.apply', 'rejected', 'TRUST_SIGNATURE_INVALID'], ['trust.apply', 'rejected', 'TRUST_ISSUER_UNAUTHORIZED'],
      ['trust.apply', 'rejected', 'INPUT_INVALID'], ['trust.apply', 'rejected', 'INPUT_INVALID'],
    ]);
    expect((await f.graphs.read(TENANT, -1))).toMatchObject({ changed: true, graph: { version: 0 } });
  });

  it('applies a redelivered message once and bumps the version once', async () => {
    const f = await createTrustFixture();
    const deps = { store: f.graphs, issuers: f.registry, receipts: f.receipts, clock: f.clock, policy: f.policy };
    const msg = { tenantId: TENANT, subject: 'did:web:x', updates: [f.signal(OBS, 'did:web:x', 'success')] };
    expect(await applyTrustMessage(deps, msg)).toEqual({ status: 'applied', version: 1, applied: 1 });
    expect(await applyTrustMessage(deps, msg)).toEqual({ status: 'duplicate', version: 1 });
    expect((await f.trust(OBS, 'did:web:x')).score).toBe(310);
  });

  it('two appliers racing on one tenant both land: versions 1 and 2, no update lost', async () => {
    const f = await createTrustFixture();
    const deps = { store: f.graphs, issuers: f.registry, receipts: f.receipts, clock: f.clock, policy: f.policy };
    const a = { tenantId: TENANT, subject: 'did:web:a', updates: [f.signal(OBS, 'did:web:a', 'success')] };
    const b = { tenantId: TENANT, subject: 'did:web:b', updates: [f.signal(OBS, 'did:web:b', 'failure')] };
    const results = await Promise.all([applyTrustMessage(deps, a), applyTrustMessage(deps, b)]);
    expect(results.map((r) => (r.status === 'applied' ? r.version : -1)).sort()).toEqual([1, 2]);
    expect((await f.trust(OBS, 'did:web:a')).score).toBe(310);
    expect((await f.trust(OBS, 'did:web:b')).score).toBe(275);
  });

  it('throws on a store outage so the bus redelivers (fail closed, nothing half-applied)', async () => {
    const f = await createTrustFixture();
    const store = { load: async () => { throw new KarsError('STORE_UNAVAILABLE', 'down'); }, save: async () => undefined };
    const deps = { store, issuers: f.registry, receipts: f.receipts, clock: f.clock, policy: f.policy };
    await expect(applyTrustMessage(deps, { tenantId: TENANT, subject: 'did:web:x', updates: [f.signal(OBS, 'did:web:x', 'success')] }))
      .rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});

describe('admitTrustBatch', () => {
  it('gives the nonces back when the queue refuses the batch, so the issuer\'s retry is not a replay', async () => {
    const f = await createTrustFixture();
    const u = f.signal(OBS, 'did:web:x', 'success');
    const deps = {
      issuers: f.registry, replay: createDocumentReplayGuard(new MemoryDocumentStore({ clock: f.clock })),
      receipts: f.receipts, clock: f.clock,
      queue: { enqueue: async () => { throw new KarsError('BUS_UNAVAILABLE', 'down'); } },
    };
    await expect(admitTrustBatch(deps, { updates: [u] })).rejects.toMatchObject({ code: 'BUS_UNAVAILABLE' });
    const up = { ...deps, queue: { enqueue: async () => undefined } };
    expect(await admitTrustBatch(up, { updates: [u] })).toMatchObject({ ok: true, accepted: 1 });
  });

  it('records accepted only once the bus holds the batch; a refused enqueue leaves a rejected receipt with its code', async () => {
    const f = await createTrustFixture();
    const u = f.signal(OBS, 'did:web:x', 'success');
    const seen: string[] = [];
    const receipts = { append: async (r: Parameters<typeof f.receipts.append>[0]) => { seen.push(`receipt:${r.outcome}`); return f.receipts.append(r); } };
    const deps = {
      issuers: f.registry, replay: createDocumentReplayGuard(new MemoryDocumentStore({ clock: f.clock })), receipts, clock: f.clock,
      queue: { enqueue: async () => { seen.push('enqueue'); throw new KarsError('BUS_UNAVAILABLE', 'down'); } },
    };
    await expect(admitTrustBatch(deps, { updates: [u] })).rejects.toMatchObject({ code: 'BUS_UNAVAILABLE' });
    expect(seen).toEqual(['enqueue', 'receipt:rejected']);
    expect(f.receipts.receipts).toHaveLength(1);
    expect(f.receipts.receipts[0]).toMatchObject({ kind: 'trust.update', outcome: 'rejected', status: 503, code: 'BUS_UNAVAILABLE' });
    expect(f.receipts.receipts[0]!.subject).toMatchObject({ reason: 'enqueue-failed', nonces: u.payload.nonce });

    seen.length = 0;
    const up = { ...deps, queue: { enqueue: async () => { seen.push('enqueue'); } } };
    const ok = await admitTrustBatch(up, { updates: [u] });
    expect(seen).toEqual(['enqueue', 'receipt:accepted']);
    expect(ok).toMatchObject({ ok: true, receiptId: f.receipts.receipts[1]!.receiptId });
  });

  it('a receipt store failing after the enqueue still answers queued (a retry would be a replay), without a receipt id', async () => {
    const f = await createTrustFixture();
    f.receipts.failWith('AUDIT_APPEND_CONTENDED');
    const result = await f.admit([f.signal(OBS, 'did:web:x', 'success')]);
    expect(result).toEqual({ ok: true, tenantId: TENANT, accepted: 1, subjects: ['did:web:x'], receiptId: null, receiptError: 'AUDIT_APPEND_CONTENDED' });
    expect(f.queued).toHaveLength(1);
  });

  it('refuses a batch mixing tenants as INPUT_INVALID', async () => {
    const f = await createTrustFixture();
    const other = signed(f.issuer, f.clock.nowMs(), { type: 'signal', observer: OBS, subject: 'did:web:x', kind: 'success' }, { tenantId: 'tenant-b' });
    expect(await f.admit([f.signal(OBS, 'did:web:x', 'success'), other])).toMatchObject({ ok: false, code: 'INPUT_INVALID' });
    expect(f.queued).toHaveLength(0);
  });
});
