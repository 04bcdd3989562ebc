// T1-R/T2-R/T4-R: the receipt record, its id scheme and its SHA-256 link hash (domain-separated, canonical JSON).
import { hash } from 'node:crypto';
import { KarsError } from '../errors';
import { canonicalJson, canonicalString } from './canonical-json';
import type { CanonicalObject } from './canonical-json';

export const RECEIPT_VERSION = 1;
/** previousHash of seq 1: no predecessor. */
export const GENESIS_HASH = '0'.repeat(64);
/** Width of the zero-padded seq in ids, so string order of ids is numeric order (room for 10^12 receipts a chain). */
export const SEQ_DIGITS = 12;
export const MAX_SEQ = 10 ** SEQ_DIGITS - 1;

const RECEIPT_DOMAIN = 'kars.audit.receipt.v1\n';
const CHAIN_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** What a caller records. Never secrets or message content: receipts are readable by every auditor. */
export interface ReceiptInput {
  /** Who or what the receipt is about (tenant, hook, sandbox, DID). Also picks the chain, so one subject stays ordered. */
  subject: string;
  /** What happened, dotted: `edge.webhook`, `router.tool`, `router.model`, `mesh.envelope`. */
  kind: string;
  /** The decision: `accepted`, `rejected`, `allowed`, `denied`, ... */
  outcome: string;
  /** Details as canonical JSON (integers only). */
  data: CanonicalObject;
}

/** The hashed part of a receipt. */
export interface ReceiptCore extends ReceiptInput {
  v: typeof RECEIPT_VERSION;
  chain: string;
  seq: number;
  timeMs: number;
  previousHash: string;
}

export interface Receipt extends ReceiptCore {
  /** `<chain>:<seq padded to 12 digits>`; unique per chain, which is what makes a fork impossible. */
  id: string;
  hash: string;
}

/** @throws KarsError INPUT_INVALID */
export function assertChainName(chain: unknown): asserts chain is string {
  if (typeof chain !== 'string' || !CHAIN_NAME.test(chain)) {
    throw new KarsError('INPUT_INVALID', 'chain name must match [a-z0-9][a-z0-9_-]{0,62}');
  }
}

export function receiptId(chain: string, seq: number): string {
  return `${chain}:${padSeq(seq)}`;
}

export function checkpointId(chain: string, seq: number): string {
  return `${chain}:ckpt:${padSeq(seq)}`;
}

function padSeq(seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > MAX_SEQ) throw new KarsError('INPUT_INVALID', 'seq out of range');
  return String(seq).padStart(SEQ_DIGITS, '0');
}

/** Inverse of receiptId; undefined for anything not in exactly that shape. */
export function parseReceiptId(id: string): { chain: string; seq: number } | undefined {
  const m = /^([a-z0-9][a-z0-9_-]{0,62}):(\d{12})$/.exec(id);
  if (!m) return undefined;
  const seq = Number(m[2]);
  return seq >= 1 ? { chain: m[1] as string, seq } : undefined;
}

export function parseCheckpointId(id: string): { chain: string; seq: number } | undefined {
  const m = /^([a-z0-9][a-z0-9_-]{0,62}):ckpt:(\d{12})$/.exec(id);
  if (!m) return undefined;
  const seq = Number(m[2]);
  return seq >= 1 ? { chain: m[1] as string, seq } : undefined;
}

/** SHA-256 over the domain tag and the canonical JSON of the hashed fields, lowercase hex. */
export function hashReceipt(core: ReceiptCore): string {
  const hashed: CanonicalObject = {
    v: core.v, chain: core.chain, seq: core.seq, timeMs: core.timeMs, subject: core.subject, kind: core.kind,
    outcome: core.outcome, data: core.data, previousHash: core.previousHash,
  };
  return sha256Receipt(canonicalJson(hashed));
}

function sha256Receipt(canonical: string): string {
  // The domain tag is ASCII and the encoding well-formed: hashing the joined string hashes the same UTF-8 bytes.
  return hash('sha256', RECEIPT_DOMAIN + canonical, 'hex');
}

/**
 * A receipt input checked and canonically encoded once. Appends build every attempt's receipt from this one encoding:
 * the stored data is parsed back from it and the hash is taken over it, so what is hashed is what is stored.
 */
export class PreparedReceiptInput {
  readonly subject: string;
  readonly kind: string;
  readonly outcome: string;
  /** canonicalJson(data) at the time of preparing: later changes to the caller's object do not reach the receipt. */
  readonly dataJson: string;
  readonly #subjectJson: string;

  /** @throws KarsError INPUT_INVALID */
  constructor(input: ReceiptInput) {
    assertReceiptFields(input);
    this.subject = input.subject;
    this.kind = input.kind;
    this.outcome = input.outcome;
    this.#subjectJson = canonicalString(input.subject);
    this.dataJson = canonicalJson(input.data);
  }

  /** canonicalJson of the hashed fields, with the data spliced in already encoded (keys in canonical order). */
  hashedJson(chain: string, seq: number, timeMs: number, previousHash: string): string {
    return `{"chain":${canonicalString(chain)},"data":${this.dataJson},"kind":${canonicalString(this.kind)},` +
      `"outcome":${canonicalString(this.outcome)},"previousHash":${canonicalString(previousHash)},"seq":${canonicalJson(seq)},` +
      `"subject":${this.#subjectJson},"timeMs":${canonicalJson(timeMs)},"v":${RECEIPT_VERSION}}`;
  }
}

/** Validates the caller's input up front, so a bad payload fails before any store call. @throws KarsError INPUT_INVALID */
export function assertReceiptInput(input: ReceiptInput): void {
  void new PreparedReceiptInput(input);
}

function assertReceiptFields(input: ReceiptInput): void {
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

/** Builds the next receipt after (previousSeq, previousHash). @throws KarsError INPUT_INVALID */
export function buildReceipt(
  chain: string, previousSeq: number, previousHash: string, timeMs: number, input: ReceiptInput | PreparedReceiptInput,
): Receipt {
  const prepared = input instanceof PreparedReceiptInput ? input : new PreparedReceiptInput(input);
  const seq = previousSeq + 1;
  const id = receiptId(chain, seq);
  const linkHash = sha256Receipt(prepared.hashedJson(chain, seq, timeMs, previousHash));
  return {
    v: RECEIPT_VERSION, chain, seq, timeMs, subject: prepared.subject, kind: prepared.kind, outcome: prepared.outcome,
    // A private copy: the caller may mutate its object while the store write is still in flight.
    data: JSON.parse(prepared.dataJson) as CanonicalObject, previousHash, id, hash: linkHash,
  };
}

export function isHex64(s: unknown): s is string {
  return typeof s === 'string' && HEX64.test(s);
}
