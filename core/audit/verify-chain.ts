// T1-R/T2-R/T4-R: walks each chain from genesis and names the FIRST broken entry (chain, seq, kind): every batch's tree
// head is recomputed from its receipts, every link and every checkpoint checked. Entries of version 1 (one receipt,
// written before batching) are verified as they were written.
import type { KeyObject } from 'node:crypto';
import type { ReceiptStore, StoredRecord } from '../ports/receipt-store.port';
import { chainNames } from './chain-select';
import type { ChainLayout } from './chain-select';
import { checkCheckpointSignature } from './checkpoint';
import type { CanonicalObject } from './canonical-json';
import { merkleTreeHead } from './merkle-tree';
import {
  ENTRY_VERSION, GENESIS_HASH, LEGACY_RECEIPT_VERSION, MAX_ENTRY_RECEIPTS, assertChainName, hashEntryHeader, hashLegacyReceipt,
  isHex64, leafHashOfJson, parseCheckpointId, parseEntryId,
} from './receipt';

export type ChainBreakKind =
  | 'hash-mismatch' // an entry's header does not hash to its stored hash (edited in place), or it is malformed
  | 'tree-head-mismatch' // an entry's receipts do not hash to its tree head: a receipt changed, dropped, reordered or inserted
  | 'link-mismatch' // previousHash does not name the entry before it (a predecessor was rewritten and rehashed: a fork)
  | 'sequence-gap' // a seq is missing (deleted)
  | 'reordered' // a position holds an entry written for another position (moved or swapped), or a foreign id
  | 'checkpoint-signature-invalid' // a checkpoint signed by a trusted key id does not verify for where it is stored
  | 'checkpoint-beyond-tip' // a signed checkpoint (or the verifier's trusted state) vouches for more entries than exist
  | 'checkpoint-hash-mismatch' // a signed checkpoint vouches for another hash or tree head at that seq (chain rebuilt)
  | 'unknown-key' // a checkpoint is signed by a key that is not trusted
  | 'head-beyond-tip'; // the unsigned head hint names a seq that no longer exists (weaker truncation evidence)

export interface ChainBreak {
  chain: string;
  /** The first entry seq at which the chain is no longer what was written (for a truncation: the first missing seq). */
  seq: number;
  kind: ChainBreakKind;
  /** Positions and ids only, never receipt content. */
  detail: string;
}

export interface CheckpointInfo {
  chain: string;
  seq: number;
  timeMs: number;
  keyId: string;
}

export interface ChainReport {
  chain: string;
  /** Receipts verified before the first break (all of them when intact). */
  receipts: number;
  /** Entries (batches) verified before the first break. */
  entries: number;
  tip?: { seq: number; hash: string; timeMs: number };
  /** Checkpoints with a valid signature from a trusted key. */
  validCheckpoints: number;
  lastCheckpoint?: CheckpointInfo;
  break?: ChainBreak;
}

/** A head this verifier saw intact on an earlier run (its own state: the witness the store cannot rewrite). */
export interface TrustedHead {
  chain: string;
  seq: number;
  hash: string;
}

export interface VerifyChainOptions {
  /** keyId → Ed25519 public key (ed25519KeyId / trustedKeyMap). */
  trustedKeys: ReadonlyMap<string, KeyObject>;
  trustedHeads?: readonly TrustedHead[];
  pageSize?: number;
  abortSignal?: AbortSignal;
  /** Tests only (the T1-R control): skip recomputing tree heads, as a links-only verifier would. */
  _disable?: readonly 'tree-heads'[];
}

const LEGACY_FIELDS = new Set([
  'v', 'chain', 'seq', 'timeMs', 'subject', 'kind', 'outcome', 'data', 'previousHash', 'hash', 'id', 'docType',
]);
const ENTRY_FIELDS = new Set(['v', 'chain', 'seq', 'timeMs', 'previousHash', 'size', 'treeHead', 'hash', 'receipts', 'id', 'docType']);
/** A batch is bounded at 256 KiB; a single receipt cannot be larger than a Cosmos item. */
const MAX_LEAF_CHARS = 2 * 1024 * 1024;
// Where two problems sit at the same seq, the entry-level one is reported: it is the more specific cause.
const KIND_RANK: Record<ChainBreakKind, number> = {
  'reordered': 0, 'sequence-gap': 1, 'hash-mismatch': 2, 'tree-head-mismatch': 3, 'link-mismatch': 4,
  'checkpoint-hash-mismatch': 5, 'unknown-key': 6, 'checkpoint-signature-invalid': 7, 'checkpoint-beyond-tip': 8,
  'head-beyond-tip': 9,
};

/** What a trusted party vouched for at one seq. */
export interface ChainAnchor {
  hash: string;
  treeHead?: string;
  size?: number;
  source: string;
}

/**
 * Checks one chain's entries in seq order, from genesis: pure and synchronous, so it runs over a store listing or over
 * entries already in memory alike. Stops at the first break.
 */
export class ChainWalker {
  readonly chain: string;
  readonly #anchors: ReadonlyMap<number, readonly ChainAnchor[]>;
  #expected = 1;
  #previousHash = GENESIS_HASH;
  receipts = 0;
  entries = 0;
  tip: { seq: number; hash: string; timeMs: number } | undefined;
  broken: ChainBreak | undefined;

  readonly #treeHeads: boolean;

  constructor(chain: string, anchors: ReadonlyMap<number, readonly ChainAnchor[]> = new Map(), options?: { _skipTreeHeads?: boolean }) {
    this.chain = chain;
    this.#anchors = anchors;
    this.#treeHeads = options?._skipTreeHeads !== true;
  }

  /** The next stored record; returns the break it shows, if any (then the walk is over). */
  step(record: StoredRecord): ChainBreak | undefined {
    if (this.broken) return this.broken;
    const checked = checkEntryRecord(this.chain, record, this.#expected, this.#previousHash, this.#treeHeads);
    if ('kind' in checked) return (this.broken = checked);
    const seq = this.#expected;
    const mismatch = (this.#anchors.get(seq) ?? []).find((a) =>
      a.hash !== checked.hash || (a.treeHead !== undefined && a.treeHead !== checked.treeHead) || (a.size !== undefined && a.size !== checked.size));
    if (mismatch) {
      return (this.broken = { chain: this.chain, seq, kind: 'checkpoint-hash-mismatch', detail: `${mismatch.source} vouches for another entry` });
    }
    this.receipts += checked.size;
    this.entries += 1;
    this.tip = { seq, hash: checked.hash, timeMs: checked.timeMs };
    this.#previousHash = checked.hash;
    this.#expected += 1;
    return undefined;
  }
}

/** @throws KarsError STORE_UNAVAILABLE (a failed read is not a verdict) */
export async function verifyChain(store: ReceiptStore, chain: string, options: VerifyChainOptions): Promise<ChainReport> {
  assertChainName(chain);
  const call = options.abortSignal ? { abortSignal: options.abortSignal } : {};
  const breaks: ChainBreak[] = [];
  const report: ChainReport = { chain, receipts: 0, entries: 0, validCheckpoints: 0 };

  // Anchors: seq → what some trusted party vouched for at that seq.
  const anchors = new Map<number, ChainAnchor[]>();
  const addAnchor = (seq: number, anchor: ChainAnchor): void => {
    const list = anchors.get(seq) ?? [];
    list.push(anchor);
    anchors.set(seq, list);
  };
  for await (const record of store.listCheckpoints(chain, call)) {
    const outcome = checkCheckpointRecord(chain, record, options.trustedKeys);
    if ('kind' in outcome) {
      breaks.push(outcome);
      continue;
    }
    report.validCheckpoints += 1;
    addAnchor(outcome.seq, {
      hash: outcome.hash, source: `checkpoint ${outcome.seq} (key ${outcome.keyId})`,
      ...(outcome.treeHead !== undefined ? { treeHead: outcome.treeHead, size: outcome.size } : {}),
    });
    const info: CheckpointInfo = { chain, seq: outcome.seq, timeMs: outcome.timeMs, keyId: outcome.keyId };
    if (!report.lastCheckpoint || info.seq > report.lastCheckpoint.seq) report.lastCheckpoint = info;
  }
  for (const head of options.trustedHeads ?? []) {
    if (head.chain === chain) addAnchor(head.seq, { hash: head.hash, source: `trusted head ${head.seq} from verifier state` });
  }

  // Read the hint before walking: on a live system writers keep appending, and a hint read after the walk could
  // legitimately name entries the walk never reached. (Checkpoints are read first for the same reason.)
  const hint = await store.readHeadHint(chain, call);

  const walker = new ChainWalker(chain, anchors, { _skipTreeHeads: options._disable?.includes('tree-heads') === true });
  for await (const record of store.listEntries(chain, { ...call, pageSize: options.pageSize ?? 100 })) {
    if (walker.step(record)) break;
  }
  report.receipts = walker.receipts;
  report.entries = walker.entries;
  if (walker.tip) report.tip = walker.tip;
  if (walker.broken) breaks.push(walker.broken);
  else {
    const tipSeq = walker.tip?.seq ?? 0;
    const beyond = [...anchors.keys()].filter((seq) => seq > tipSeq).sort((a, b) => a - b)[0];
    if (beyond !== undefined) {
      breaks.push({
        chain, seq: tipSeq + 1, kind: 'checkpoint-beyond-tip',
        detail: `${anchors.get(beyond)?.[0]?.source ?? 'checkpoint'} vouches for seq ${beyond}; the chain ends at ${tipSeq}`,
      });
    }
    if (hint && hint.hint.seq > tipSeq) {
      breaks.push({ chain, seq: tipSeq + 1, kind: 'head-beyond-tip', detail: `head hint names seq ${hint.hint.seq}; the chain ends at ${tipSeq}` });
    }
  }
  const first = breaks.sort((a, b) => a.seq - b.seq || KIND_RANK[a.kind] - KIND_RANK[b.kind])[0];
  if (first) report.break = first;
  return report;
}

export interface VerifyAuditLogOptions extends VerifyChainOptions {
  /** Verify only these chains. Default: every registered chain plus every chain of `layout`. */
  chains?: readonly string[];
  layout?: ChainLayout;
}

export interface AuditReport {
  ok: boolean;
  chains: ChainReport[];
  receipts: number;
  entries: number;
  /** The most recent valid checkpoint across chains (by signing time). */
  lastCheckpoint?: CheckpointInfo;
}

/** @throws KarsError STORE_UNAVAILABLE */
export async function verifyAuditLog(store: ReceiptStore, options: VerifyAuditLogOptions): Promise<AuditReport> {
  let names: string[];
  if (options.chains) names = [...options.chains];
  else {
    const registered = await store.listChains(options.abortSignal ? { abortSignal: options.abortSignal } : {});
    names = [...registered, ...(options.layout ? chainNames(options.layout) : []), ...(options.trustedHeads ?? []).map((h) => h.chain)];
  }
  const unique = [...new Set(names)].sort();
  const chains: ChainReport[] = [];
  for (const chain of unique) chains.push(await verifyChain(store, chain, options));
  let lastCheckpoint: CheckpointInfo | undefined;
  for (const c of chains) {
    if (c.lastCheckpoint && (!lastCheckpoint || c.lastCheckpoint.timeMs > lastCheckpoint.timeMs)) lastCheckpoint = c.lastCheckpoint;
  }
  return {
    ok: chains.every((c) => !c.break),
    chains,
    receipts: chains.reduce((n, c) => n + c.receipts, 0),
    entries: chains.reduce((n, c) => n + c.entries, 0),
    ...(lastCheckpoint ? { lastCheckpoint } : {}),
  };
}

interface CheckedEntry {
  hash: string;
  timeMs: number;
  size: number;
  treeHead?: string;
}

function checkEntryRecord(
  chain: string, record: StoredRecord, expected: number, previousHash: string, treeHeads: boolean,
): ChainBreak | CheckedEntry {
  const at = parseEntryId(record.id);
  if (!at || at.chain !== chain) return { chain, seq: expected, kind: 'reordered', detail: 'a record in the entry sequence has a foreign id' };
  if (at.seq > expected) return { chain, seq: expected, kind: 'sequence-gap', detail: `next stored entry is seq ${at.seq}` };
  if (at.seq < expected) return { chain, seq: at.seq, kind: 'reordered', detail: 'entries out of order' };
  const body = record.body;
  if (body['seq'] !== at.seq || body['chain'] !== chain) {
    return { chain, seq: at.seq, kind: 'reordered', detail: `position ${at.seq} holds an entry written for seq ${String(body['seq'])}` };
  }
  const checked = body['v'] === ENTRY_VERSION ? checkBatchEntry(chain, at.seq, body, treeHeads) : checkLegacyEntry(chain, at.seq, body);
  if ('kind' in checked) return checked;
  if (body['previousHash'] !== previousHash) {
    return { chain, seq: at.seq, kind: 'link-mismatch', detail: `previousHash does not match entry ${at.seq - 1}` };
  }
  return checked;
}

function checkBatchEntry(chain: string, seq: number, body: Record<string, unknown>, treeHeads: boolean): ChainBreak | CheckedEntry {
  const malformed = (why: string): ChainBreak => ({ chain, seq, kind: 'hash-mismatch', detail: `entry is malformed (${why})` });
  for (const k in body) if (!ENTRY_FIELDS.has(k)) return malformed('a field outside the hashed set');
  const { timeMs, previousHash, size, treeHead, hash, receipts } = body;
  if (!Number.isSafeInteger(timeMs) || !isHex64(previousHash) || !isHex64(treeHead) || !isHex64(hash)) return malformed('header fields');
  if (!Number.isSafeInteger(size) || (size as number) < 1 || (size as number) > MAX_ENTRY_RECEIPTS) return malformed('size');
  const header = { v: ENTRY_VERSION, chain, seq, timeMs: timeMs as number, previousHash, size: size as number, treeHead } as const;
  if (hashEntryHeader(header) !== hash) return { chain, seq, kind: 'hash-mismatch', detail: 'entry header does not match its hash' };
  if (!treeHeads) return { hash, timeMs: timeMs as number, size: size as number, treeHead };
  // The receipts: exactly `size` of them, each exactly the four hashed fields, hashing (in order) to the tree head.
  if (!Array.isArray(receipts) || receipts.length !== size) {
    return { chain, seq, kind: 'tree-head-mismatch', detail: `entry holds ${Array.isArray(receipts) ? receipts.length : 'no'} receipts; its tree head covers ${String(size)}` };
  }
  const leaves: Buffer[] = [];
  for (const [index, leaf] of receipts.entries()) {
    // The stored string is hashed as it is: if it hashes into the tree head it is the canonical encoding written.
    if (typeof leaf !== 'string' || leaf.length > MAX_LEAF_CHARS) {
      return { chain, seq, kind: 'tree-head-mismatch', detail: `receipt ${index} is not leaf data` };
    }
    leaves.push(leafHashOfJson(leaf));
  }
  if (merkleTreeHead(leaves).toString('hex') !== treeHead) {
    return { chain, seq, kind: 'tree-head-mismatch', detail: 'receipts do not hash to the entry\'s tree head' };
  }
  return { hash, timeMs: timeMs as number, size: size as number, treeHead };
}

function checkLegacyEntry(chain: string, seq: number, body: Record<string, unknown>): ChainBreak | CheckedEntry {
  const computed = recomputeLegacyHash(body);
  if (computed === undefined) return { chain, seq, kind: 'hash-mismatch', detail: 'receipt is malformed or carries unhashed fields' };
  if (computed !== body['hash']) return { chain, seq, kind: 'hash-mismatch', detail: 'content does not match its hash' };
  return { hash: computed, timeMs: body['timeMs'] as number, size: 1 };
}

function recomputeLegacyHash(body: Record<string, unknown>): string | undefined {
  if (Object.keys(body).some((k) => !LEGACY_FIELDS.has(k))) return undefined;
  const { v, chain, seq, timeMs, subject, kind, outcome, data, previousHash, hash } = body;
  if (v !== LEGACY_RECEIPT_VERSION || typeof chain !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(timeMs)) return undefined;
  if (typeof subject !== 'string' || typeof kind !== 'string' || typeof outcome !== 'string') return undefined;
  if (typeof data !== 'object' || data === null || Array.isArray(data) || !isHex64(previousHash) || !isHex64(hash)) return undefined;
  try {
    return hashLegacyReceipt({
      v: LEGACY_RECEIPT_VERSION, chain, seq, timeMs: timeMs as number, subject, kind, outcome, data: data as CanonicalObject, previousHash,
    });
  } catch {
    return undefined; // not canonical-encodable (a float, a lone surrogate...): it cannot be what we hashed
  }
}

function checkCheckpointRecord(
  chain: string, record: StoredRecord, trustedKeys: ReadonlyMap<string, KeyObject>,
): ChainBreak | CheckpointInfo & { hash: string; treeHead?: string; size?: number } {
  const at = parseCheckpointId(record.id);
  if (!at || at.chain !== chain) {
    const seq = typeof record.body['seq'] === 'number' && Number.isSafeInteger(record.body['seq']) ? record.body['seq'] : 1;
    return { chain, seq, kind: 'checkpoint-signature-invalid', detail: 'a checkpoint record has a foreign id' };
  }
  const { hash, timeMs, keyId, signature, treeHead, size, v } = record.body;
  // The version picks the signed statement: a version 2 checkpoint also signs the entry's tree head and size.
  const statement = v === 2
    ? { chain, seq: at.seq, hash: hash as string, timeMs: timeMs as number, treeHead: treeHead as string, size: size as number }
    : { chain, seq: at.seq, hash: hash as string, timeMs: timeMs as number };
  const check = v === 1 || v === 2 ? checkCheckpointSignature(statement, keyId, signature, trustedKeys) : 'signature-invalid';
  if (check === 'unknown-key') {
    return { chain, seq: at.seq, kind: 'unknown-key', detail: `checkpoint ${at.seq} is signed by untrusted key ${printableKeyId(keyId)}` };
  }
  if (check === 'signature-invalid' || record.body['seq'] !== at.seq || record.body['chain'] !== chain) {
    return { chain, seq: at.seq, kind: 'checkpoint-signature-invalid', detail: `checkpoint ${at.seq} does not verify` };
  }
  return {
    chain, seq: at.seq, hash: hash as string, timeMs: timeMs as number, keyId: keyId as string,
    ...(v === 2 ? { treeHead: treeHead as string, size: size as number } : {}),
  };
}

function printableKeyId(keyId: unknown): string {
  return typeof keyId === 'string' && /^[0-9a-f]{1,64}$/.test(keyId) ? keyId : '<malformed>';
}
