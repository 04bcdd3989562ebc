// RFC 9162 §2.1 hashing: the published Certificate Transparency vectors pin the leaf/node domain separation, the split
// at the largest power of two, and the inclusion proof algorithms (transparency-dev/merkle testonly/constants.go).
import { describe, expect, it } from 'vitest';
import {
  EMPTY_TREE_HEAD, merkleInclusionProof, merkleLeafHash, merkleRootFromInclusionProof, merkleTreeHead,
} from '../../../core/audit/merkle-tree';

const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f']
  .map((h) => merkleLeafHash(Buffer.from(h, 'hex')));
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const hex = (bs: readonly Buffer[]): string[] => bs.map((b) => b.toString('hex'));

describe('merkle tree (RFC 9162)', () => {
  it('matches the published tree heads for 0..8 leaves', () => {
    expect(EMPTY_TREE_HEAD).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(merkleTreeHead([]).toString('hex')).toBe(EMPTY_TREE_HEAD);
    for (let n = 1; n <= 8; n += 1) expect(merkleTreeHead(LEAVES.slice(0, n)).toString('hex')).toBe(ROOTS[n - 1]);
  });

  it('produces the published audit paths', () => {
    expect(hex(merkleInclusionProof(LEAVES, 0))).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(hex(merkleInclusionProof(LEAVES, 5))).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
  });

  it('verifies every leaf of every tree up to 33 leaves, and refuses every corrupted proof', () => {
    const many = Array.from({ length: 33 }, (_, i) => merkleLeafHash(Buffer.from(`leaf ${i}`)));
    for (let n = 1; n <= many.length; n += 1) {
      const leaves = many.slice(0, n);
      const root = merkleTreeHead(leaves);
      for (let i = 0; i < n; i += 1) {
        const proof = merkleInclusionProof(leaves, i);
        expect(merkleRootFromInclusionProof(i, n, leaves[i]!, proof)?.equals(root), `n=${n} i=${i}`).toBe(true);
        // The transparency-dev probes (proof/verify_test.go): index ±1 and ^2, size ×2 and ÷2, a flipped bit, an
        // element dropped or added.
        const probes: [number, number, Buffer[]][] = [
          [i - 1, n, proof], [i + 1, n, proof], [i ^ 2, n, proof], [i, n * 2, proof], [i, Math.floor(n / 2), proof],
          ...(proof.length > 0 ? [[i, n, proof.slice(1)], [i, n, proof.slice(0, -1)]] as [number, number, Buffer[]][] : []),
          [i, n, [...proof, root]], [i, n, [root, ...proof]],
          ...proof.map((_, k): [number, number, Buffer[]] => [i, n, proof.map((p, j) => (j === k ? flip(p) : p))]),
        ];
        for (const [pi, pn, pp] of probes) {
          const got = merkleRootFromInclusionProof(pi, pn, leaves[i]!, pp);
          expect(got?.equals(root) ?? false, `n=${n} i=${i} probe index=${pi} size=${pn} len=${pp.length}`).toBe(false);
        }
      }
    }
  });

  it('keeps a node from passing as a leaf (domain separation)', () => {
    const node = merkleTreeHead(LEAVES.slice(0, 2));
    expect(merkleLeafHash(Buffer.concat([LEAVES[0]!, LEAVES[1]!])).equals(node)).toBe(false);
  });
});

function flip(b: Buffer): Buffer {
  const c = Buffer.from(b);
  c[0] = (c[0] ?? 0) ^ 1;
  return c;
}
