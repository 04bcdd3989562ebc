// T1-R/T2-R/T4-R: the receipt record, its id scheme and its SHA-256 link hash (domain-separated, canonical JSON).
import { createHash } from 'node:crypto';
import { KarsError } from '../errors';
import { canonicalJson } from './canonical-json';
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
  return createHash('sha256').update(RECEIPT_DOMAIN).update(canonicalJson(hashed), 'utf8').digest('hex');
}

/** Validates the caller's input up front, so a bad payload fails before any store call. @throws KarsError INPUT_INVALID */
export function assertReceiptInput(input: ReceiptInput): void {
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
  canonicalJson(input.data);
}

/** Builds the next receipt after (previousSeq, previousHash). */
export function buildReceipt(
  chain: string, previousSeq: number, previousHash: string, timeMs: number, input: ReceiptInput,
): Receipt {
  const core: ReceiptCore = {
    v: RECEIPT_VERSION, chain, seq: previousSeq + 1, timeMs, subject: input.subject, kind: input.kind,
    // A private copy: the caller may mutate its object while the store write is still in flight.
    outcome: input.outcome, data: JSON.parse(canonicalJson(input.data)) as CanonicalObject, previousHash,
  };
  return { ...core, id: receiptId(chain, core.seq), hash: hashReceipt(core) };
}

export function isHex64(s: unknown): s is string {
  return typeof s === 'string' && HEX64.test(s);
}
