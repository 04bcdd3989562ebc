// T1-R/T2-R/T4-R: receipts as RFC 9162 leaves, chain entries (one per batch: the Merkle tree head over the batch's
// receipts, linked to the previous entry's hash), their ids and hashes, and the one-receipt entries of version 1 that
// chains written before batching still hold (verified as they are; see docs/audit.md "Migration").
import { hash } from 'node:crypto';
import { KarsError } from '../errors';
import type { AuditReceiptInput } from '../ports/receipt-log.port';
import { canonicalJson, canonicalString } from './canonical-json';
import type { CanonicalObject } from './canonical-json';
import { merkleTreeHead } from './merkle-tree';

/** Version 1: one receipt per chain entry (before batching). Still verified, no longer written. */
export const LEGACY_RECEIPT_VERSION = 1;
/** Version 2: one entry per batch, holding the batch's receipts and their Merkle tree head. */
export const ENTRY_VERSION = 2;
/** previousHash of seq 1: no predecessor. */
export const GENESIS_HASH = '0'.repeat(64);
/** Width of the zero-padded seq in ids, so string order of ids is numeric order (room for 10^12 entries a chain). */
export const SEQ_DIGITS = 12;
export const MAX_SEQ = 10 ** SEQ_DIGITS - 1;
/** Receipts per entry at most (the batch bound); the leaf index in a receipt id has 3 digits. */
export const MAX_ENTRY_RECEIPTS = 256;

const LEGACY_RECEIPT_DOMAIN = 'kars.audit.receipt.v1\n';
/** Leaf data = this tag ‖ canonical JSON of the receipt; the leaf hash prefixes 0x00 (RFC 9162 §2.1.1). */
const LEAF_DOMAIN = 'kars.audit.receipt.v2\n';
const ENTRY_DOMAIN = 'kars.audit.entry.v2\n';
const CHAIN_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A receipt as stored in an entry and hashed as a leaf: exactly the producer's four fields. */
export type ReceiptLeaf = AuditReceiptInput;

/** The hashed part of an entry: where it sits, what it follows, and the tree head over its receipts. */
export interface EntryHeader {
  v: typeof ENTRY_VERSION;
  chain: string;
  seq: number;
  timeMs: number;
  previousHash: string;
  /** Receipts in the entry (the tree size), 1..256. */
  size: number;
  /** RFC 9162 MTH over the receipts' leaf hashes, hex. */
  treeHead: string;
}

export interface ChainEntry extends EntryHeader {
  /** `<chain>:<seq padded to 12 digits>`; unique per chain, which is what makes a fork impossible. */
  id: string;
  /** The entry's link hash over its header. */
  hash: string;
  /**
   * The receipts as their leaf data: each the canonical JSON of one receipt, stored as the exact string that was
   * hashed. A verifier hashes these bytes as they are (a match proves them unchanged, whatever a store does to key
   * order), so it is bound by SHA-256 rather than by re-encoding; readers parse them to display.
   */
  receipts: string[];
}

/** Version 1 entry: one receipt, hashed with its position and link. */
export interface LegacyReceiptCore extends ReceiptLeaf {
  v: typeof LEGACY_RECEIPT_VERSION;
  chain: string;
  seq: number;
  timeMs: number;
  previousHash: string;
}

export interface LegacyReceipt extends LegacyReceiptCore {
  id: string;
  hash: string;
}

/** @throws KarsError INPUT_INVALID */
export function assertChainName(chain: unknown): asserts chain is string {
  if (typeof chain !== 'string' || !CHAIN_NAME.test(chain)) {
    throw new KarsError('INPUT_INVALID', 'chain name must match [a-z0-9][a-z0-9_-]{0,62}');
  }
}

/** Id of entry `seq` (of either version). */
export function entryId(chain: string, seq: number): string {
  return `${chain}:${padSeq(seq)}`;
}

/** Id of one receipt: entry and leaf index. Version 1 receipts keep their entry id (they are alone in it). */
export function receiptId(chain: string, seq: number, index: number): string {
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_ENTRY_RECEIPTS) throw new KarsError('INPUT_INVALID', 'leaf index out of range');
  return `${entryId(chain, seq)}:${String(index).padStart(3, '0')}`;
}

export function checkpointId(chain: string, seq: number): string {
  return `${chain}:ckpt:${padSeq(seq)}`;
}

function padSeq(seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > MAX_SEQ) throw new KarsError('INPUT_INVALID', 'seq out of range');
  return String(seq).padStart(SEQ_DIGITS, '0');
}

/** Inverse of entryId; undefined for anything not in exactly that shape. */
export function parseEntryId(id: string): { chain: string; seq: number } | undefined {
  const m = /^([a-z0-9][a-z0-9_-]{0,62}):(\d{12})$/.exec(id);
  if (!m) return undefined;
  const seq = Number(m[2]);
  return seq >= 1 ? { chain: m[1] as string, seq } : undefined;
}

/** A receipt id: `<chain>:<seq12>:<index3>`, or a version 1 id `<chain>:<seq12>` (index undefined). */
export function parseReceiptId(id: string): { chain: string; seq: number; index?: number } | undefined {
  const m = /^([a-z0-9][a-z0-9_-]{0,62}):(\d{12})(?::(\d{3}))?$/.exec(id);
  if (!m) return undefined;
  const seq = Number(m[2]);
  if (seq < 1) return undefined;
  if (m[3] === undefined) return { chain: m[1] as string, seq };
  const index = Number(m[3]);
  return index < MAX_ENTRY_RECEIPTS ? { chain: m[1] as string, seq, index } : undefined;
}

export function parseCheckpointId(id: string): { chain: string; seq: number } | undefined {
  const m = /^([a-z0-9][a-z0-9_-]{0,62}):ckpt:(\d{12})$/.exec(id);
  if (!m) return undefined;
  const seq = Number(m[2]);
  return seq >= 1 ? { chain: m[1] as string, seq } : undefined;
}

/**
 * A receipt checked and canonically encoded once: its leaf hash is taken over that encoding, and the stored copy is
 * parsed back from it, so what is hashed is what is stored, and later changes to the caller's object do not reach it.
 */
export class PreparedReceipt {
  readonly subject: string;
  /** canonicalJson of the leaf ({data, kind, outcome, subject}). */
  readonly leafJson: string;
  /** RFC 9162 leaf hash: SHA-256(0x00 ‖ LEAF_DOMAIN ‖ leafJson). */
  readonly leafHash: Buffer;

  /** @throws KarsError INPUT_INVALID */
  constructor(input: AuditReceiptInput) {
    assertReceiptFields(input);
    this.subject = input.subject;
    this.leafJson = `{"data":${canonicalJson(input.data)},"kind":${canonicalString(input.kind)},` +
      `"outcome":${canonicalString(input.outcome)},"subject":${canonicalString(input.subject)}}`;
    this.leafHash = leafHashOfJson(this.leafJson);
  }
}

/** Leaf hash of a receipt given as fields (canonically encoded first). @throws KarsError INPUT_INVALID for a malformed receipt */
export function hashReceiptLeaf(leaf: ReceiptLeaf): Buffer {
  assertReceiptFields(leaf);
  return leafHashOfJson(canonicalJson({ data: leaf.data, kind: leaf.kind, outcome: leaf.outcome, subject: leaf.subject }));
}

/** The receipt a stored leaf string holds, or undefined when it is not a receipt's canonical encoding. */
export function parseReceiptLeaf(leafJson: unknown): ReceiptLeaf | undefined {
  if (typeof leafJson !== 'string') return undefined;
  try {
    const leaf = JSON.parse(leafJson) as ReceiptLeaf;
    assertReceiptFields(leaf);
    const keys = Object.keys(leaf);
    if (keys.length !== 4 || canonicalJson({ data: leaf.data, kind: leaf.kind, outcome: leaf.outcome, subject: leaf.subject }) !== leafJson) return undefined;
    return leaf;
  } catch {
    return undefined;
  }
}

/** Leaf hash of stored leaf data (the canonical JSON string of one receipt): SHA-256(0x00 ‖ domain tag ‖ it). */
export function leafHashOfJson(leafJson: string): Buffer {
  // U+0000 encodes as the single byte 0x00, so this hashes 0x00 ‖ UTF-8(domain ‖ json) in one call.
  return hash('sha256', `\u0000${LEAF_DOMAIN}${leafJson}`, 'buffer') as unknown as Buffer;
}

/** The entry's link hash: SHA-256 over the domain tag and the canonical JSON of the header, lowercase hex. */
export function hashEntryHeader(header: EntryHeader): string {
  return hash('sha256', ENTRY_DOMAIN + canonicalJson({
    v: header.v, chain: header.chain, seq: header.seq, timeMs: header.timeMs, previousHash: header.previousHash,
    size: header.size, treeHead: header.treeHead,
  }), 'hex');
}

/** A batch sealed for writing: its receipts, their tree head and the stored copies (fixed whatever seq it lands at). */
export class PreparedBatch {
  readonly receipts: readonly PreparedReceipt[];
  readonly treeHead: string;
  /** The stored leaf data: exactly the hashed encodings (shared by every attempt). */
  readonly #stored: readonly string[];

  constructor(receipts: readonly PreparedReceipt[]) {
    if (receipts.length < 1 || receipts.length > MAX_ENTRY_RECEIPTS) throw new KarsError('INPUT_INVALID', 'a batch holds 1..256 receipts');
    this.receipts = receipts;
    this.treeHead = merkleTreeHead(receipts.map((r) => r.leafHash)).toString('hex');
    this.#stored = receipts.map((r) => r.leafJson);
  }

  /** The entry after (previousSeq, previousHash): the same receipts and tree head wherever the batch lands. */
  entryAfter(chain: string, previousSeq: number, previousHash: string, timeMs: number): ChainEntry {
    const header: EntryHeader = {
      v: ENTRY_VERSION, chain, seq: previousSeq + 1, timeMs, previousHash, size: this.receipts.length, treeHead: this.treeHead,
    };
    return { ...header, id: entryId(chain, header.seq), hash: hashEntryHeader(header), receipts: [...this.#stored] };
  }
}

/** Validates the caller's input up front, so a bad payload fails before any store call. @throws KarsError INPUT_INVALID */
export function assertReceiptInput(input: AuditReceiptInput): void {
  void new PreparedReceipt(input);
}

function assertReceiptFields(input: AuditReceiptInput): void {
  if (typeof input !== 'object' || input === null) throw new KarsError('INPUT_INVALID', 'receipt input must be an object');
  for (const field of ['kind', 'outcome'] as const) {
    if (typeof input[field] !== 'string' || !LABEL.test(input[field])) {
      throw new KarsError('INPUT_INVALID', `receipt ${field} must be 1..128 printable label characters`);
    }
  }
  // Subjects are ids from outside (tenants, DIDs): any text, but bounded and without control characters.
  if (typeof input.subject !== 'string' || input.subject.length === 0 || input.subject.length > 256 || CONTROL.test(input.subject)) {
    throw new KarsError('INPUT_INVALID', 'receipt subject must be 1..256 characters without control characters');
  }
  if (typeof input.data !== 'object' || input.data === null || Array.isArray(input.data)) {
    throw new KarsError('INPUT_INVALID', 'receipt data must be an object');
  }
}

/** Version 1 link hash: SHA-256 over its domain tag and the canonical JSON of the hashed fields, lowercase hex. */
export function hashLegacyReceipt(core: LegacyReceiptCore): string {
  const hashed: CanonicalObject = {
    v: core.v, chain: core.chain, seq: core.seq, timeMs: core.timeMs, subject: core.subject, kind: core.kind,
    outcome: core.outcome, data: core.data, previousHash: core.previousHash,
  };
  return hash('sha256', LEGACY_RECEIPT_DOMAIN + canonicalJson(hashed), 'hex');
}

/** A version 1 entry as the appender wrote it before batching: migration fixtures and tests only. */
export function _buildLegacyReceipt(
  chain: string, previousSeq: number, previousHash: string, timeMs: number, input: AuditReceiptInput,
): LegacyReceipt {
  assertReceiptFields(input);
  const core: LegacyReceiptCore = {
    v: LEGACY_RECEIPT_VERSION, chain, seq: previousSeq + 1, timeMs, subject: input.subject, kind: input.kind,
    outcome: input.outcome, data: JSON.parse(canonicalJson(input.data)) as CanonicalObject, previousHash,
  };
  return { ...core, id: entryId(chain, core.seq), hash: hashLegacyReceipt(core) };
}

export function isHex64(s: unknown): s is string {
  return typeof s === 'string' && HEX64.test(s);
}
