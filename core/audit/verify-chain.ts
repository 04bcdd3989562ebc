// T1-R/T2-R/T4-R: walks each chain from genesis and names the FIRST broken link (chain, seq, kind).
import type { KeyObject } from 'node:crypto';
import type { ReceiptStore, StoredRecord } from '../ports/receipt-store.port';
import { chainNames } from './chain-select';
import type { ChainLayout } from './chain-select';
import { checkCheckpointSignature } from './checkpoint';
import type { CanonicalObject } from './canonical-json';
import {
  GENESIS_HASH, RECEIPT_VERSION, assertChainName, hashReceipt, isHex64, parseCheckpointId, parseReceiptId,
} from './receipt';

export type ChainBreakKind =
  | 'hash-mismatch' // a receipt's content does not hash to its stored hash (edited in place), or it is malformed
  | 'link-mismatch' // previousHash does not name the receipt before it (a predecessor was rewritten and rehashed)
  | 'sequence-gap' // a seq is missing (deleted)
  | 'reordered' // a position holds a receipt written for another position (moved or swapped), or a foreign id
  | 'checkpoint-signature-invalid' // a checkpoint signed by a trusted key id does not verify for where it is stored
  | 'checkpoint-beyond-tip' // a signed checkpoint (or the verifier's trusted state) vouches for more receipts than exist
  | 'checkpoint-hash-mismatch' // a signed checkpoint vouches for another hash at that seq (chain rebuilt)
  | 'unknown-key' // a checkpoint is signed by a key that is not trusted
  | 'head-beyond-tip'; // the unsigned head hint names a seq that no longer exists (weaker truncation evidence)

export interface ChainBreak {
  chain: string;
  /** The first seq at which the chain is no longer what was written (for a truncation: the first missing seq). */
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
}

const RECEIPT_FIELDS = new Set([
  'v', 'chain', 'seq', 'timeMs', 'subject', 'kind', 'outcome', 'data', 'previousHash', 'hash', 'id', 'docType',
]);
// Where two problems sit at the same seq, the receipt-level one is reported: it is the more specific cause.
const KIND_RANK: Record<ChainBreakKind, number> = {
  'reordered': 0, 'sequence-gap': 1, 'hash-mismatch': 2, 'link-mismatch': 3, 'checkpoint-hash-mismatch': 4,
  'unknown-key': 5, 'checkpoint-signature-invalid': 6, 'checkpoint-beyond-tip': 7, 'head-beyond-tip': 8,
};

/** @throws KarsError STORE_UNAVAILABLE (a failed read is not a verdict) */
export async function verifyChain(store: ReceiptStore, chain: string, options: VerifyChainOptions): Promise<ChainReport> {
  assertChainName(chain);
  const call = options.abortSignal ? { abortSignal: options.abortSignal } : {};
  const breaks: ChainBreak[] = [];
  const report: ChainReport = { chain, receipts: 0, validCheckpoints: 0 };

  // Anchors: seq → hashes that some trusted party vouched for at that seq.
  const anchors = new Map<number, { hash: string; source: string }[]>();
  const addAnchor = (seq: number, hash: string, source: string): void => {
    const list = anchors.get(seq) ?? [];
    list.push({ hash, source });
    anchors.set(seq, list);
  };
  for await (const record of store.listCheckpoints(chain, call)) {
    const outcome = checkCheckpointRecord(chain, record, options.trustedKeys);
    if ('kind' in outcome) {
      breaks.push(outcome);
      continue;
    }
    report.validCheckpoints += 1;
    addAnchor(outcome.seq, outcome.hash, `checkpoint ${outcome.seq} (key ${outcome.keyId})`);
    if (!report.lastCheckpoint || outcome.seq > report.lastCheckpoint.seq) report.lastCheckpoint = outcome;
  }
  for (const head of options.trustedHeads ?? []) {
    if (head.chain === chain) addAnchor(head.seq, head.hash, `trusted head ${head.seq} from verifier state`);
  }

  // Read the hint before walking: on a live system writers keep appending, and a hint read after the walk could
  // legitimately name receipts the walk never reached. (Checkpoints are read first for the same reason.)
  const hint = await store.readHeadHint(chain, call);

  let expected = 1;
  let previousHash = GENESIS_HASH;
  let walkBreak: ChainBreak | undefined;
  for await (const record of store.listReceipts(chain, { ...call, pageSize: options.pageSize ?? 500 })) {
    walkBreak = checkReceiptRecord(chain, record, expected, previousHash);
    if (walkBreak) break;
    const body = record.body as { hash: string; timeMs: number };
    const mismatch = (anchors.get(expected) ?? []).find((a) => a.hash !== body.hash);
    if (mismatch) {
      walkBreak = { chain, seq: expected, kind: 'checkpoint-hash-mismatch', detail: `${mismatch.source} vouches for another hash` };
      break;
    }
    report.receipts += 1;
    report.tip = { seq: expected, hash: body.hash, timeMs: body.timeMs };
    previousHash = body.hash;
    expected += 1;
  }
  if (walkBreak) breaks.push(walkBreak);
  else {
    const tipSeq = expected - 1;
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
    ...(lastCheckpoint ? { lastCheckpoint } : {}),
  };
}

function checkReceiptRecord(chain: string, record: StoredRecord, expected: number, previousHash: string): ChainBreak | undefined {
  const at = parseReceiptId(record.id);
  if (!at || at.chain !== chain) return { chain, seq: expected, kind: 'reordered', detail: 'a record in the receipt sequence has a foreign id' };
  if (at.seq > expected) return { chain, seq: expected, kind: 'sequence-gap', detail: `next stored receipt is seq ${at.seq}` };
  if (at.seq < expected) return { chain, seq: at.seq, kind: 'reordered', detail: 'receipts out of order' };
  const body = record.body;
  if (body['seq'] !== at.seq || body['chain'] !== chain) {
    return { chain, seq: at.seq, kind: 'reordered', detail: `position ${at.seq} holds a receipt written for seq ${String(body['seq'])}` };
  }
  const computed = recomputeHash(body);
  if (computed === undefined) return { chain, seq: at.seq, kind: 'hash-mismatch', detail: 'receipt is malformed or carries unhashed fields' };
  if (computed !== body['hash']) return { chain, seq: at.seq, kind: 'hash-mismatch', detail: 'content does not match its hash' };
  if (body['previousHash'] !== previousHash) {
    return { chain, seq: at.seq, kind: 'link-mismatch', detail: `previousHash does not match receipt ${at.seq - 1}` };
  }
  return undefined;
}

function recomputeHash(body: Record<string, unknown>): string | undefined {
  if (Object.keys(body).some((k) => !RECEIPT_FIELDS.has(k))) return undefined;
  const { v, chain, seq, timeMs, subject, kind, outcome, data, previousHash, hash } = body;
  if (v !== RECEIPT_VERSION || typeof chain !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(timeMs)) return undefined;
  if (typeof subject !== 'string' || typeof kind !== 'string' || typeof outcome !== 'string') return undefined;
  if (typeof data !== 'object' || data === null || Array.isArray(data) || !isHex64(previousHash) || !isHex64(hash)) return undefined;
  try {
    return hashReceipt({
      v: RECEIPT_VERSION, chain, seq, timeMs: timeMs as number, subject, kind, outcome, data: data as CanonicalObject, previousHash,
    });
  } catch {
    return undefined; // not canonical-encodable (a float, a lone surrogate...): it cannot be what we hashed
  }
}

function checkCheckpointRecord(
  chain: string, record: StoredRecord, trustedKeys: ReadonlyMap<string, KeyObject>,
): ChainBreak | CheckpointInfo & { hash: string } {
  const at = parseCheckpointId(record.id);
  if (!at || at.chain !== chain) {
    const seq = typeof record.body['seq'] === 'number' && Number.isSafeInteger(record.body['seq']) ? record.body['seq'] : 1;
    return { chain, seq, kind: 'checkpoint-signature-invalid', detail: 'a checkpoint record has a foreign id' };
  }
  const { hash, timeMs, keyId, signature } = record.body;
  const check = checkCheckpointSignature(
    { chain, seq: at.seq, hash: hash as string, timeMs: timeMs as number }, keyId, signature, trustedKeys,
  );
  if (check === 'unknown-key') {
    return { chain, seq: at.seq, kind: 'unknown-key', detail: `checkpoint ${at.seq} is signed by untrusted key ${printableKeyId(keyId)}` };
  }
  if (check === 'signature-invalid' || record.body['seq'] !== at.seq || record.body['chain'] !== chain) {
    return { chain, seq: at.seq, kind: 'checkpoint-signature-invalid', detail: `checkpoint ${at.seq} does not verify` };
  }
  return { chain, seq: at.seq, hash: hash as string, timeMs: timeMs as number, keyId: keyId as string };
}

function printableKeyId(keyId: unknown): string {
  return typeof keyId === 'string' && /^[0-9a-f]{1,64}$/.test(keyId) ? keyId : '<malformed>';
}
