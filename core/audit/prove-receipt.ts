// T1-R/T2-R/T4-R: a receipt's proof, checkable offline by anyone who holds the checkpoint public key: the receipt, its
// RFC 9162 inclusion proof up to its entry's tree head, the entry headers linking that entry to a signed checkpoint,
// and the checkpoint. Building a proof reads the store; verifying one trusts nothing but the key.
import type { KeyObject } from 'node:crypto';
import type { ReceiptStore, StoredRecord } from '../ports/receipt-store.port';
import { checkCheckpointSignature } from './checkpoint';
import type { CheckpointStatement } from './checkpoint';
import type { CanonicalObject } from './canonical-json';
import { merkleInclusionProof, merkleRootFromInclusionProof } from './merkle-tree';
import {
  ENTRY_VERSION, LEGACY_RECEIPT_VERSION, MAX_ENTRY_RECEIPTS, assertChainName, hashEntryHeader, hashLegacyReceipt, isHex64,
  leafHashOfJson, parseCheckpointId, parseReceiptId, parseReceiptLeaf,
} from './receipt';
import type { EntryHeader, LegacyReceiptCore, ReceiptLeaf } from './receipt';

/** A link of the proof: a batch entry's header, or (chains written before batching) a whole one-receipt entry. */
export type ProofEntry = EntryHeader | LegacyReceiptCore;

export interface ProofCheckpoint extends CheckpointStatement {
  keyId: string;
  signature: string;
}

export interface ReceiptProof {
  receiptId: string;
  /** The receipt's leaf data exactly as stored and hashed (canonical JSON); absent for a version 1 receipt, which is entries[0]. */
  leaf?: string;
  /** Leaf index in its entry; absent for a version 1 receipt. */
  index?: number;
  /** RFC 9162 audit path from the receipt's leaf hash to its entry's tree head, hex, nearest first. */
  inclusion: string[];
  /** Entry seq of the receipt, then every following entry up to the checkpointed one. */
  entries: ProofEntry[];
  checkpoint: ProofCheckpoint;
}

export type BuildProofResult =
  | { found: true; proof: ReceiptProof }
  | { found: false; reason: 'malformed-id' | 'unknown-receipt' | 'not-checkpointed' | 'chain-broken'; detail: string };

/** @throws KarsError STORE_UNAVAILABLE */
export async function buildReceiptProof(
  store: ReceiptStore, id: string, trustedKeys: ReadonlyMap<string, KeyObject>, options?: { abortSignal?: AbortSignal },
): Promise<BuildProofResult> {
  const at = parseReceiptId(id);
  if (!at) return { found: false, reason: 'malformed-id', detail: 'a receipt id is <chain>:<seq, 12 digits>[:<index, 3 digits>]' };
  const call = options?.abortSignal ? { abortSignal: options.abortSignal } : {};
  const record = await store.readEntry(at.chain, at.seq, call);
  if (!record) return { found: false, reason: 'unknown-receipt', detail: `no entry ${at.seq} in chain ${at.chain}` };
  const first = proofEntryOf(record);
  if (!first) return { found: false, reason: 'chain-broken', detail: `entry ${at.seq} is malformed; run kars audit verify` };

  let leaf: string | undefined;
  let inclusion: string[] = [];
  if (first.v === ENTRY_VERSION) {
    const receipts = record.body['receipts'];
    if (at.index === undefined || !Array.isArray(receipts) || at.index >= receipts.length) {
      return { found: false, reason: 'unknown-receipt', detail: `entry ${at.seq} has no receipt ${String(at.index ?? '(none)')}` };
    }
    if (!receipts.every((r): r is string => typeof r === 'string')) {
      return { found: false, reason: 'chain-broken', detail: `entry ${at.seq} holds a malformed receipt; run kars audit verify` };
    }
    leaf = receipts[at.index] as string;
    inclusion = merkleInclusionProof(receipts.map(leafHashOfJson), at.index).map((h) => h.toString('hex'));
  } else if (at.index !== undefined && at.index !== 0) {
    return { found: false, reason: 'unknown-receipt', detail: `entry ${at.seq} holds one receipt` };
  }

  // The first checkpoint at or after the entry that verifies under a trusted key.
  let checkpoint: ProofCheckpoint | undefined;
  for await (const cp of store.listCheckpoints(at.chain, call)) {
    const candidate = proofCheckpointOf(at.chain, cp);
    if (!candidate || candidate.seq < at.seq) continue;
    if (checkCheckpointSignature(statementOf(candidate), candidate.keyId, candidate.signature, trustedKeys) !== 'ok') continue;
    checkpoint = candidate;
    break;
  }
  if (!checkpoint) {
    return { found: false, reason: 'not-checkpointed', detail: `no trusted checkpoint covers entry ${at.seq} of ${at.chain} yet` };
  }
  const entries: ProofEntry[] = [first];
  if (checkpoint.seq > at.seq) {
    for await (const next of store.listEntries(at.chain, { ...call, afterSeq: at.seq })) {
      const link = proofEntryOf(next);
      if (!link || link.seq !== at.seq + entries.length) {
        return { found: false, reason: 'chain-broken', detail: `entry ${at.seq + entries.length} is missing or malformed; run kars audit verify` };
      }
      entries.push(link);
      if (link.seq === checkpoint.seq) break;
    }
  }
  const proof: ReceiptProof = { receiptId: id, inclusion, entries, checkpoint };
  if (leaf !== undefined) {
    proof.leaf = leaf;
    proof.index = at.index!;
  }
  return { found: true, proof };
}

export type ProofCheck =
  | {
    ok: true; chain: string; seq: number; index?: number; size: number; checkpoint: { seq: number; keyId: string; timeMs: number };
    /** The proven receipt, read from the proof's leaf data (or the one-receipt entry) after the checks passed. */
    receipt: ReceiptLeaf;
  }
  | { ok: false; reason: string };

/** Verifies a proof with nothing but the trusted keys: no store, no network. Never throws on hostile input. */
export function verifyReceiptProof(proof: ReceiptProof, trustedKeys: ReadonlyMap<string, KeyObject>): ProofCheck {
  try {
    return check(proof, trustedKeys);
  } catch {
    return { ok: false, reason: 'the proof is malformed' };
  }
}

function check(proof: ReceiptProof, trustedKeys: ReadonlyMap<string, KeyObject>): ProofCheck {
  const fail = (reason: string): ProofCheck => ({ ok: false, reason });
  const at = typeof proof?.receiptId === 'string' ? parseReceiptId(proof.receiptId) : undefined;
  if (!at) return fail('malformed receipt id');
  const cp = proof.checkpoint;
  if (typeof cp !== 'object' || cp === null || cp.chain !== at.chain) return fail('the checkpoint is for another chain');
  if (checkCheckpointSignature(statementOf(cp), cp.keyId, cp.signature, trustedKeys) !== 'ok') {
    return fail('the checkpoint signature does not verify under a trusted key');
  }
  if (!Array.isArray(proof.entries) || proof.entries.length === 0) return fail('no entries');
  const first = proof.entries[0]!;
  if (first.chain !== at.chain || first.seq !== at.seq) return fail('the first entry is not the receipt\'s entry');

  let receipt: ReceiptLeaf | undefined;
  if (first.v === ENTRY_VERSION) {
    if (at.index === undefined || proof.index !== at.index || !Array.isArray(proof.inclusion)) return fail('the leaf index does not match the receipt id');
    receipt = parseReceiptLeaf(proof.leaf);
    if (!receipt) return fail('the leaf is not a receipt\'s canonical encoding');
    if (!proof.inclusion.every(isHex64) || first.size > MAX_ENTRY_RECEIPTS) return fail('the inclusion proof is malformed');
    const root = merkleRootFromInclusionProof(at.index, first.size, leafHashOfJson(proof.leaf!), proof.inclusion.map((h) => Buffer.from(h, 'hex')));
    if (!root || root.toString('hex') !== first.treeHead) return fail('the inclusion proof does not lead to the entry\'s tree head');
  } else if (first.v === LEGACY_RECEIPT_VERSION) {
    if (at.index !== undefined && at.index !== 0) return fail('a version 1 entry holds one receipt');
    receipt = { subject: first.subject, kind: first.kind, outcome: first.outcome, data: first.data };
  } else return fail('unknown entry version');

  // Links: each entry's hash is recomputed and named by the next one's previousHash, up to the checkpointed entry.
  let previous: string | undefined;
  let seq = at.seq;
  let last: { hash: string; treeHead?: string; size: number } | undefined;
  for (const entry of proof.entries) {
    if (entry.chain !== at.chain || entry.seq !== seq) return fail(`entry ${seq} is missing or out of order`);
    if (previous !== undefined && entry.previousHash !== previous) return fail(`entry ${seq} does not link to entry ${seq - 1}`);
    const hash = entryHash(entry);
    if (!hash) return fail(`entry ${seq} is malformed`);
    previous = hash;
    last = entry.v === ENTRY_VERSION ? { hash, treeHead: entry.treeHead, size: entry.size } : { hash, size: 1 };
    seq += 1;
  }
  if (!last || seq - 1 !== cp.seq || last.hash !== cp.hash) return fail('the entries do not end at the checkpointed entry');
  if (cp.treeHead !== undefined && (cp.treeHead !== last.treeHead || cp.size !== last.size)) {
    return fail('the checkpoint signs another tree head');
  }
  return {
    ok: true, chain: at.chain, seq: at.seq, ...(at.index !== undefined ? { index: at.index } : {}),
    size: first.v === ENTRY_VERSION ? first.size : 1, checkpoint: { seq: cp.seq, keyId: cp.keyId, timeMs: cp.timeMs }, receipt,
  };
}

function entryHash(entry: ProofEntry): string | undefined {
  if (!isHex64(entry.previousHash) || !Number.isSafeInteger(entry.timeMs)) return undefined;
  if (entry.v === ENTRY_VERSION) {
    if (!isHex64(entry.treeHead) || !Number.isSafeInteger(entry.size) || entry.size < 1) return undefined;
    return hashEntryHeader({
      v: ENTRY_VERSION, chain: entry.chain, seq: entry.seq, timeMs: entry.timeMs, previousHash: entry.previousHash, size: entry.size,
      treeHead: entry.treeHead,
    });
  }
  if (entry.v !== LEGACY_RECEIPT_VERSION || !isLeaf(entry)) return undefined;
  return hashLegacyReceipt({
    v: LEGACY_RECEIPT_VERSION, chain: entry.chain, seq: entry.seq, timeMs: entry.timeMs, previousHash: entry.previousHash,
    subject: entry.subject, kind: entry.kind, outcome: entry.outcome, data: entry.data,
  });
}

function isLeaf(r: unknown): r is ReceiptLeaf {
  if (typeof r !== 'object' || r === null) return false;
  const { subject, kind, outcome, data } = r as Record<string, unknown>;
  return typeof subject === 'string' && typeof kind === 'string' && typeof outcome === 'string' &&
    typeof data === 'object' && data !== null && !Array.isArray(data);
}

function statementOf(cp: ProofCheckpoint): CheckpointStatement {
  const base = { chain: cp.chain, seq: cp.seq, hash: cp.hash, timeMs: cp.timeMs };
  return cp.treeHead !== undefined || cp.size !== undefined ? { ...base, treeHead: cp.treeHead as string, size: cp.size as number } : base;
}

/** The hashed fields of a stored entry (version 1 or 2), or undefined when it is not shaped like one. */
function proofEntryOf(record: StoredRecord): ProofEntry | undefined {
  const b = record.body;
  if (typeof b['chain'] !== 'string' || !Number.isSafeInteger(b['seq']) || !Number.isSafeInteger(b['timeMs']) || !isHex64(b['previousHash'])) return undefined;
  const chain = b['chain'];
  try {
    assertChainName(chain);
  } catch {
    return undefined;
  }
  const base = { chain, seq: b['seq'] as number, timeMs: b['timeMs'] as number, previousHash: b['previousHash'] };
  if (b['v'] === ENTRY_VERSION) {
    if (!isHex64(b['treeHead']) || !Number.isSafeInteger(b['size'])) return undefined;
    return { v: ENTRY_VERSION, ...base, size: b['size'] as number, treeHead: b['treeHead'] };
  }
  if (b['v'] === LEGACY_RECEIPT_VERSION && isLeaf(b)) {
    return {
      v: LEGACY_RECEIPT_VERSION, ...base, subject: b['subject'] as string, kind: b['kind'] as string, outcome: b['outcome'] as string,
      data: b['data'] as CanonicalObject,
    };
  }
  return undefined;
}

function proofCheckpointOf(chain: string, record: StoredRecord): ProofCheckpoint | undefined {
  const at = parseCheckpointId(record.id);
  const b = record.body;
  if (!at || at.chain !== chain || b['seq'] !== at.seq || typeof b['keyId'] !== 'string' || typeof b['signature'] !== 'string') return undefined;
  if (!isHex64(b['hash']) || !Number.isSafeInteger(b['timeMs'])) return undefined;
  const base = { chain, seq: at.seq, hash: b['hash'], timeMs: b['timeMs'] as number, keyId: b['keyId'], signature: b['signature'] };
  if (b['v'] === 2) return isHex64(b['treeHead']) && Number.isSafeInteger(b['size']) ? { ...base, treeHead: b['treeHead'], size: b['size'] as number } : undefined;
  return b['v'] === 1 ? base : undefined;
}
