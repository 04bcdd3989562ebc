// T1-R: signed checkpoints over a chain head, so truncating or rebuilding a chain (kars's unsigned-head gap) is detectable.
// Version 2 also signs the entry's Merkle tree head and size, so a receipt's inclusion proof verifies against the
// signature directly (RFC 9162 signed tree head); version 1 (entries of one receipt) is still verified.
import { sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import { ed25519KeyId } from './ed25519-keys';
import { checkpointId, isHex64 } from './receipt';

const CHECKPOINT_DOMAIN_V1 = 'kars.audit.checkpoint.v1\n';
const CHECKPOINT_DOMAIN_V2 = 'kars.audit.checkpoint.v2\n';

/**
 * What a checkpoint vouches for: chain `chain` had entry `seq` with link hash `hash` at `timeMs` and, for an entry of
 * version 2, the tree head `treeHead` over its `size` receipts.
 */
export interface CheckpointStatement {
  chain: string;
  seq: number;
  hash: string;
  timeMs: number;
  treeHead?: string;
  size?: number;
}

export interface Checkpoint extends CheckpointStatement {
  /** 2 when the statement carries a tree head, else 1. */
  v: 1 | 2;
  /** `<chain>:ckpt:<seq padded>`. */
  id: string;
  /** ed25519KeyId of the signing key: lets verifiers pick the key (rotation) and name unknown ones. */
  keyId: string;
  /** Ed25519 signature over checkpointMessage(statement), base64. */
  signature: string;
}

/** Exactly the bytes that are signed: domain tag + canonical JSON of the statement (nothing else is trusted). */
export function checkpointMessage(statement: CheckpointStatement): Uint8Array {
  const { chain, seq, hash, timeMs } = statement;
  if (statement.treeHead === undefined && statement.size === undefined) {
    return new TextEncoder().encode(CHECKPOINT_DOMAIN_V1 + canonicalJson({ chain, seq, hash, timeMs }));
  }
  const { treeHead, size } = statement;
  return new TextEncoder().encode(CHECKPOINT_DOMAIN_V2 + canonicalJson({ chain, seq, hash, timeMs, treeHead: treeHead ?? null, size: size ?? null }));
}

export function signCheckpoint(privateKey: KeyObject, statement: CheckpointStatement): Checkpoint {
  const signature = sign(null, checkpointMessage(statement), privateKey).toString('base64');
  const tree = statement.treeHead !== undefined || statement.size !== undefined;
  return {
    v: tree ? 2 : 1, id: checkpointId(statement.chain, statement.seq), chain: statement.chain, seq: statement.seq,
    hash: statement.hash, timeMs: statement.timeMs,
    ...(tree ? { treeHead: statement.treeHead as string, size: statement.size as number } : {}),
    keyId: ed25519KeyId(privateKey), signature,
  };
}

export type CheckpointCheck = 'ok' | 'unknown-key' | 'signature-invalid';

/**
 * Verifies a checkpoint's signature for the statement the verifier reconstructs from where it found the checkpoint
 * (its chain and id-derived seq), so a checkpoint copied to another chain or position fails.
 * @param trustedKeys keyId → public key
 */
export function checkCheckpointSignature(
  statement: CheckpointStatement, keyId: unknown, signature: unknown, trustedKeys: ReadonlyMap<string, KeyObject>,
): CheckpointCheck {
  const key = typeof keyId === 'string' ? trustedKeys.get(keyId) : undefined;
  if (!key) return 'unknown-key';
  if (typeof signature !== 'string' || !/^[A-Za-z0-9+/]{86}==$/.test(signature)) return 'signature-invalid';
  if (!isHex64(statement.hash) || !Number.isSafeInteger(statement.timeMs)) return 'signature-invalid';
  if ((statement.treeHead !== undefined || statement.size !== undefined) &&
    (!isHex64(statement.treeHead) || !Number.isSafeInteger(statement.size))) return 'signature-invalid';
  try {
    return verify(null, checkpointMessage(statement), key, Buffer.from(signature, 'base64')) ? 'ok' : 'signature-invalid';
  } catch {
    return 'signature-invalid';
  }
}

/** keyId → key for a set of trusted public keys. */
export function trustedKeyMap(keys: readonly KeyObject[]): Map<string, KeyObject> {
  return new Map(keys.map((k) => [ed25519KeyId(k), k]));
}
