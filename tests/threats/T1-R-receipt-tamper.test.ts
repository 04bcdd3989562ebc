// T1-R (inbound action not auditable → every request hashed into the receipt chain). Attack: someone with write access
// Defends: receipt-chain, signed-checkpoints, receipt-every-request, request-hash
// to the receipts store changes, drops, reorders or inserts a receipt inside a batch, forks an entry, edits, deletes,
// reorders, rebuilds or truncates entries, or re-signs the head with their own key. Mitigations under test: RFC 9162
// tree heads over each batch, SHA-256 links between entries over canonical JSON, ids that pin each seq, and Ed25519
// checkpoints signed with the Key Vault key. The real `kars audit verify` (cli/main.ts, what bin/kars.js runs) must
// name the first broken entry each time; the controls show a changed receipt going unnoticed when tree heads are not
// recomputed, and truncation going unnoticed when checkpoints are switched off.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCosmosClient } from '../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers, RECEIPTS_CONTAINER } from '../../adapters/cosmos/cosmos-containers';
import { CosmosDocumentStore } from '../../adapters/cosmos/cosmos-document-store';
import { createCosmosReceiptStore } from '../../adapters/cosmos/cosmos-receipt-store';
import { createMemorySecretSource } from '../../adapters/memory/memory-secrets';
import { ReceiptAppender } from '../../core/audit/append-receipt';
import { createSecretCheckpointSigner } from '../../core/audit/checkpoint-signer';
import { verifyAuditLog } from '../../core/audit/verify-chain';
import type { DocumentStore } from '../../core/ports/document-store.port';
import { redact } from '../../core/secrets/redacted';
import { startCosmosServer } from '../../infra/local/cosmos/start-cosmos-server';
import type { LocalCosmosServer } from '../../infra/local/cosmos/start-cosmos-server';
import { input, keysOf, newKey, testClock } from '../core/audit/audit-fixture';
import {
  changeLeaf, deleteReceipt, dropLeaf, editHeader, forgeCheckpointSignature, forkEntry, insertLeaf, rebuildFrom,
  reorderLeaves, resignCheckpoint, swapReceipts, truncate,
} from '../core/audit/tamper';
import { runTs } from '../integration/audit/support/run-ts';
import { requestHash } from '../../core/edge/request-hash';
import { sha256Hex } from '../../core/crypto/sha256-hex';
import { standardFixture } from '../core/webhook/fixtures';
import { createEdgeFixture, edgeRequest, nowSec, registerHook, SECRETS, signStandard, utf8 } from '../core/edge/edge-fixture';
import type { RunResult } from '../integration/audit/support/run-ts';

const CHAIN = 'audit-01';
const key = newKey();
const dir = mkdtempSync(join(tmpdir(), 'kars-t1r-'));
const publicKeyFile = join(dir, 'checkpoint.pub.pem');
writeFileSync(publicKeyFile, key.publicKey.export({ format: 'pem', type: 'spki' }) as string);

let server: LocalCosmosServer;
let client: CosmosClient;
let dbCount = 0;

beforeAll(async () => {
  server = await startCosmosServer();
  client = createCosmosClient({ endpoint: server.endpoint, key: redact(server.key) });
});
afterAll(async () => {
  client?.dispose();
  await server?.stop();
});

/**
 * A fresh database with 3 one-receipt entries on audit-00 and 23 entries of 3 receipts on audit-01 (each three issued
 * in one turn, so batched): checkpoints every 5 entries (at 5, 10, 15, 20 on audit-01), head hint every 8.
 * `signed: false` is the control: no checkpoint signer, as in kars.
 */
async function seed(options: { signed: boolean }): Promise<{ database: string; docs: DocumentStore; container: Container }> {
  dbCount += 1;
  const database = `t1r-${dbCount}`;
  const container = (await ensureCosmosContainers(client, database, [RECEIPTS_CONTAINER])).get(RECEIPTS_CONTAINER.id)!;
  const clock = testClock();
  const secrets = createMemorySecretSource({ 'audit-checkpoint-key': key.secret });
  const appender = new ReceiptAppender(createCosmosReceiptStore(container), {
    clock, layout: { prefix: 'audit', count: 2 }, checkpointEvery: 5, headHintEvery: 8,
    ...(options.signed ? { signer: createSecretCheckpointSigner(secrets, { secretName: 'audit-checkpoint-key', clock }) } : {}),
  });
  for (let i = 1; i <= 3; i += 1) await appender.appendToChain('audit-00', input(i));
  for (let i = 1; i <= 23; i += 1) {
    clock.advance(1000);
    await Promise.all([0, 1, 2].map((k) => appender.appendToChain(CHAIN, input(i * 3 + k))));
  }
  await appender.whenIdle();
  return { database, docs: new CosmosDocumentStore(container), container };
}

function verify(database: string, ...extra: string[]): Promise<RunResult> {
  return runTs('cli/main.ts', ['audit', 'verify', '--public-key', publicKeyFile, '--chain-count', '2', ...extra], {
    KARS_COSMOS_ENDPOINT: server.endpoint, KARS_COSMOS_KEY: server.key, KARS_COSMOS_DATABASE: database,
  });
}

function expectBroken(result: RunResult, seq: number, kind: string): void {
  expect(result.stdout).toMatch(new RegExp(`^BROKEN chain=${CHAIN} seq=${seq} kind=${kind} \\(`));
  expect(result.stdout.trim().split('\n')).toHaveLength(1); // only the tampered chain, only its first break
  expect(result.code).toBe(1);
  expect(result.stdout + result.stderr).not.toContain(server.key);
}

describe('T1-R receipt tampering is reported by kars audit verify', () => {
  it('an untouched log verifies: OK with the receipt count and the last checkpoint', async () => {
    const { database } = await seed({ signed: true });
    const r = await verify(database);
    expect(r.stdout).toMatch(/^OK 72 receipts in 2 chains \(26 entries\), last checkpoint audit-01@20 \d{4}-\d\d-\d\dT[\d:.]+Z key [0-9a-f]{16}\n$/);
    expect(r.code).toBe(0);
  });

  it('a changed leaf: one receipt inside a batch edited → tree-head-mismatch at its entry', async () => {
    const { database, docs } = await seed({ signed: true });
    await changeLeaf(docs, CHAIN, 7, 1, { rehash: false });
    expectBroken(await verify(database), 7, 'tree-head-mismatch');
  });

  it('control: with tree heads not recomputed (links and checkpoints only), the same changed receipt goes unnoticed', async () => {
    const { docs, container } = await seed({ signed: true });
    await changeLeaf(docs, CHAIN, 7, 1, { rehash: false });
    const store = createCosmosReceiptStore(container);
    const on = await verifyAuditLog(store, { trustedKeys: keysOf(key), chains: [CHAIN] });
    const off = await verifyAuditLog(store, { trustedKeys: keysOf(key), chains: [CHAIN], _disable: ['tree-heads'] });
    expect([on.ok, on.chains[0]?.break?.kind]).toEqual([false, 'tree-head-mismatch']);
    expect(off.ok).toBe(true);
  });

  it('a dropped leaf → tree-head-mismatch at its entry', async () => {
    const { database, docs } = await seed({ signed: true });
    await dropLeaf(docs, CHAIN, 8, 0, { rehash: false });
    expectBroken(await verify(database), 8, 'tree-head-mismatch');
  });

  it('reordered leaves → tree-head-mismatch at their entry', async () => {
    const { database, docs } = await seed({ signed: true });
    await reorderLeaves(docs, CHAIN, 9, 0, 2);
    expectBroken(await verify(database), 9, 'tree-head-mismatch');
  });

  it('an inserted leaf, the entry re-hashed by the attacker → link-mismatch at the next entry', async () => {
    const { database, docs } = await seed({ signed: true });
    await insertLeaf(docs, CHAIN, 11, 1, { rehash: true });
    expectBroken(await verify(database), 12, 'link-mismatch');
  });

  it('a forked entry (another batch after the same predecessor) → link-mismatch; at a checkpoint → checkpoint-hash-mismatch', async () => {
    const { database, docs } = await seed({ signed: true });
    await forkEntry(docs, CHAIN, 13);
    expectBroken(await verify(database), 14, 'link-mismatch');
    const second = await seed({ signed: true });
    await forkEntry(second.docs, CHAIN, 15);
    expectBroken(await verify(second.database), 15, 'checkpoint-hash-mismatch');
  });

  it('edit: an entry header changed in place → hash-mismatch at that entry', async () => {
    const { database, docs } = await seed({ signed: true });
    await editHeader(docs, CHAIN, 7);
    expectBroken(await verify(database), 7, 'hash-mismatch');
  });

  it('delete: an entry removed → sequence-gap at the missing seq', async () => {
    const { database, docs } = await seed({ signed: true });
    await deleteReceipt(docs, CHAIN, 9);
    expectBroken(await verify(database), 9, 'sequence-gap');
  });

  it('reorder: two entries swapped → reordered at the first swapped position', async () => {
    const { database, docs } = await seed({ signed: true });
    await swapReceipts(docs, CHAIN, 11, 12);
    expectBroken(await verify(database), 11, 'reordered');
  });

  it('rebuild: the tail rewritten with consistent links → checkpoint-hash-mismatch at the signed checkpoint', async () => {
    const { database, docs } = await seed({ signed: true });
    await rebuildFrom(docs, CHAIN, 17, 23);
    expectBroken(await verify(database), 20, 'checkpoint-hash-mismatch');
  });

  it('rebuild and re-sign the checkpoint under the trusted key id with another key → checkpoint-signature-invalid there', async () => {
    const { database, docs } = await seed({ signed: true });
    await rebuildFrom(docs, CHAIN, 17, 23);
    await forgeCheckpointSignature(docs, CHAIN, 20, newKey().privateKey);
    expectBroken(await verify(database), 20, 'checkpoint-signature-invalid');
  });

  it('truncate the tail → checkpoint-beyond-tip at the first missing seq', async () => {
    const { database, docs } = await seed({ signed: true });
    await truncate(docs, CHAIN, 19, 23, { checkpoints: false });
    expectBroken(await verify(database), 19, 'checkpoint-beyond-tip');
  });

  it('truncate the tail and re-sign the checkpoint with another key → unknown-key at the forged checkpoint', async () => {
    const { database, docs } = await seed({ signed: true });
    await truncate(docs, CHAIN, 17, 23, { checkpoints: true, headHint: true });
    await resignCheckpoint(docs, CHAIN, 16, newKey().privateKey, 1_800_000_000_000);
    expectBroken(await verify(database), 16, 'unknown-key');
  });

  it('truncate and erase every trace in the store → caught by the verifier state of an earlier run', async () => {
    const { database, docs } = await seed({ signed: true });
    const state = join(dir, `state-${database}.json`);
    expect((await verify(database, '--state', state)).code).toBe(0);
    await truncate(docs, CHAIN, 13, 23, { checkpoints: true, headHint: true });
    expectBroken(await verify(database, '--state', state), 13, 'checkpoint-beyond-tip');
  });

  it('control: with checkpoints switched off (kars\'s unsigned head), the same truncation goes unnoticed', async () => {
    const { database, docs } = await seed({ signed: false });
    await truncate(docs, CHAIN, 19, 23, { checkpoints: true, headHint: true });
    const r = await verify(database);
    expect(r.stdout).toMatch(/^OK 57 receipts in 2 chains \(21 entries\), last checkpoint none\n$/);
    expect(r.code).toBe(0);
  });
});


// The other half of the row: the edge must put every inbound request into the chain — refusals too, since a forger's
// probes are what an investigation needs — and each receipt's request hash must commit to the exact body, so a receipt
// cannot later be claimed for another request.
describe('T1-R every inbound request is receipted with a hash that binds its body', () => {
  it('accepted, forged, replayed, wrong content type, oversized, invalid and cross-tenant requests each leave one receipt', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    const body = JSON.stringify(standardFixture);
    const sign = (id: string, b: string): Record<string, string> => signStandard(SECRETS.standard, id, nowSec(f.clock), b);
    const big = JSON.stringify({ ...standardFixture, data: { id: '1', blob: 'A'.repeat(300 * 1024) } });
    const invalid = JSON.stringify({ ...standardFixture, timestamp: 'yesterday' });
    const sent = [
      { body, headers: sign('msg_ok', body) },
      { body, headers: signStandard('whsec_' + Buffer.alloc(32, 7).toString('base64'), 'msg_forged', nowSec(f.clock), body) },
      { body, headers: sign('msg_ok', body) },
      { body, headers: { ...sign('msg_ct', body), 'content-type': 'text/plain' } },
      { body: big, headers: sign('msg_big', big) },
      { body: invalid, headers: sign('msg_invalid', invalid) },
      { body, headers: { ...sign('msg_tenant', body), 'x-kars-tenant': 'tenant-b' } },
    ];
    const statuses: number[] = [];
    for (const r of sent) statuses.push((await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, ...r }))).status);
    expect(statuses).toEqual([202, 401, 409, 415, 413, 400, 403]);
    expect(f.receipts.receipts.map((r) => r.status)).toEqual(statuses);
    for (const r of f.receipts.receipts) expect(r.requestHash).toBe(requestHash(r.subject as unknown as Parameters<typeof requestHash>[0]));
    // Bodies read in full are named by their digest (the 415 and 413 were refused before or while reading).
    expect(f.receipts.receipts.map((r) => (r.subject as { bodyDigest: string | null }).bodyDigest)).toEqual([
      sha256Hex(utf8(body)), sha256Hex(utf8(body)), sha256Hex(utf8(body)), null, null, sha256Hex(utf8(invalid)), sha256Hex(utf8(body)),
    ]);
  });

  it('a receipt re-pointed at another body (its digest swapped) no longer matches its request hash', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    const body = JSON.stringify(standardFixture);
    await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body, headers: signStandard(SECRETS.standard, 'msg_a', nowSec(f.clock), body) }));
    const [receipt] = f.receipts.receipts;
    const subject = receipt!.subject as unknown as Parameters<typeof requestHash>[0];
    expect(requestHash(subject)).toBe(receipt!.requestHash);
    const other = JSON.stringify({ ...standardFixture, data: { id: 'another' } });
    expect(requestHash({ ...subject, bodyDigest: sha256Hex(utf8(other)) })).not.toBe(receipt!.requestHash);
    expect(requestHash({ ...subject, deliveryId: 'msg_b' })).not.toBe(receipt!.requestHash);
    expect(requestHash({ ...subject, tenantId: 'tenant-b' })).not.toBe(receipt!.requestHash);
  });
});
