// T1-R/T2-R/T4-R: RFC 9162 §2.1 Merkle tree hashing over one batch of receipts: leaf SHA-256(0x00 ‖ d), node
// SHA-256(0x01 ‖ left ‖ right). The domain separation keeps a node from passing as a leaf (second-preimage resistance).
import { hash } from 'node:crypto';
import { KarsError } from '../errors';

const LEAF_PREFIX = Buffer.from([0x00]);
/** 0x01 ‖ left ‖ right, reused: hashing is synchronous, so one scratch buffer serves every node (no allocation). */
const NODE_INPUT = Buffer.alloc(65);
NODE_INPUT[0] = 0x01;

/** MTH({}) = SHA-256() (RFC 9162 §2.1.1). */
export const EMPTY_TREE_HEAD = hash('sha256', '', 'hex');

/** Leaf hash of `data` (RFC 9162 §2.1.1): SHA-256(0x00 ‖ data). */
export function merkleLeafHash(data: Uint8Array): Buffer {
  return hash('sha256', Buffer.concat([LEAF_PREFIX, data]), 'buffer') as unknown as Buffer;
}

/** Interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== 32 || right.length !== 32) throw new KarsError('INPUT_INVALID', 'a Merkle node joins two 32-byte hashes');
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 33);
  return hash('sha256', NODE_INPUT, 'buffer') as unknown as Buffer;
}

/**
 * MTH over leaf hashes. Pairing bottom-up and carrying an odd last node up unchanged builds exactly the tree that
 * splits at the largest power of two below n (RFC 9162 §2.1.1).
 */
export function merkleTreeHead(leafHashes: readonly Uint8Array[]): Buffer {
  if (leafHashes.length === 0) return Buffer.from(EMPTY_TREE_HEAD, 'hex');
  let level: Uint8Array[] = [...leafHashes];
  while (level.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) up.push(merkleNodeHash(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) up.push(level[level.length - 1]!);
    level = up;
  }
  return Buffer.from(level[0]!);
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1: the sibling hashes from leaf m up to the root, nearest first. */
export function merkleInclusionProof(leafHashes: readonly Uint8Array[], index: number): Buffer[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leafHashes.length) {
    throw new KarsError('INPUT_INVALID', 'leaf index outside the tree');
  }
  const path: Buffer[] = [];
  const walk = (m: number, lo: number, hi: number): void => {
    const n = hi - lo;
    if (n <= 1) return;
    const k = largestPowerOfTwoBelow(n);
    if (m < k) {
      walk(m, lo, lo + k);
      path.push(merkleTreeHead(leafHashes.slice(lo + k, hi)));
    } else {
      walk(m - k, lo + k, hi);
      path.push(merkleTreeHead(leafHashes.slice(lo, lo + k)));
    }
  };
  walk(index, 0, leafHashes.length);
  return path;
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or undefined when the proof cannot belong to a tree of
 * `treeSize` leaves (index out of range, too many or too few path elements).
 */
export function merkleRootFromInclusionProof(
  index: number, treeSize: number, leafHash: Uint8Array, proof: readonly Uint8Array[],
): Buffer | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return undefined;
  let fn = index;
  let sn = treeSize - 1;
  let r: Uint8Array = leafHash;
  for (const p of proof) {
    if (sn === 0 || p.length !== 32) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = merkleNodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? Buffer.from(r) : undefined;
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
