// What an attacker with write access to the receipts store can do, as plain DocumentStore edits (memory or Cosmos):
// to whole entries (edit, delete, swap, rebuild, truncate), to the receipts inside one entry (change, drop, reorder,
// insert a leaf), to checkpoints, and a forked entry (another batch at a seq, validly hashed).
import type { KeyObject } from 'node:crypto';
import { signCheckpoint } from '../../../core/audit/checkpoint';
import { merkleTreeHead } from '../../../core/audit/merkle-tree';
import { canonicalJson } from '../../../core/audit/canonical-json';
import { checkpointId, entryId, hashEntryHeader, hashLegacyReceipt, leafHashOfJson } from '../../../core/audit/receipt';
import type { EntryHeader, LegacyReceiptCore, ReceiptLeaf } from '../../../core/audit/receipt';
import type { DocumentBody, DocumentStore } from '../../../core/ports/document-store.port';

async function readDoc(docs: DocumentStore, chain: string, id: string): Promise<{ doc: DocumentBody; etag: string }> {
  const found = await docs.read(chain, id);
  if (!found) throw new Error(`tamper: ${id} not found`);
  return found;
}

/** Recomputes what the attacker can: the tree head over the (edited) receipts and the header hash. */
export function rehash(doc: DocumentBody): DocumentBody {
  if (doc['v'] === 1) return { ...doc, hash: hashLegacyReceipt(doc as unknown as LegacyReceiptCore) };
  const receipts = doc['receipts'] as string[];
  const treeHead = merkleTreeHead(receipts.map(leafHashOfJson)).toString('hex');
  const withTree = { ...doc, size: receipts.length, treeHead };
  return { ...withTree, hash: hashEntryHeader(withTree as unknown as EntryHeader) };
}

async function editEntry(
  docs: DocumentStore, chain: string, seq: number, edit: (doc: DocumentBody) => DocumentBody, options: { rehash: boolean },
): Promise<void> {
  const { doc, etag } = await readDoc(docs, chain, entryId(chain, seq));
  const edited = edit(doc);
  await docs.replace(chain, options.rehash ? rehash(edited) : edited, { ifMatch: etag });
}

/** The entry's receipts parsed (leaf data is stored as canonical JSON strings); `leafData` encodes them back. */
const receiptsOf = (doc: DocumentBody): ReceiptLeaf[] => (doc['receipts'] as string[]).map((r) => JSON.parse(r) as ReceiptLeaf);
const leafData = (rs: ReceiptLeaf[]): string[] => rs.map((r) => canonicalJson({ data: r.data, kind: r.kind, outcome: r.outcome, subject: r.subject }));
const flip = (r: ReceiptLeaf): ReceiptLeaf => ({ ...r, outcome: r.outcome === 'accepted' ? 'rejected' : 'accepted' });

/** Changes one receipt's outcome inside entry `seq` (leaf `index`); with `rehash` the attacker also fixes up the entry. */
export async function changeLeaf(docs: DocumentStore, chain: string, seq: number, index: number, options: { rehash: boolean }): Promise<void> {
  await editEntry(docs, chain, seq, (doc) => ({ ...doc, receipts: leafData(receiptsOf(doc).map((r, i) => (i === index ? flip(r) : r))) }), options);
}

/** Removes leaf `index` from entry `seq`. */
export async function dropLeaf(docs: DocumentStore, chain: string, seq: number, index: number, options: { rehash: boolean }): Promise<void> {
  await editEntry(docs, chain, seq, (doc) => ({ ...doc, receipts: (doc['receipts'] as string[]).filter((_, i) => i !== index) }), options);
}

/** Swaps leaves a and b of entry `seq`. */
export async function reorderLeaves(docs: DocumentStore, chain: string, seq: number, a: number, b: number): Promise<void> {
  await editEntry(docs, chain, seq, (doc) => {
    const rs = [...(doc['receipts'] as string[])];
    [rs[a], rs[b]] = [rs[b]!, rs[a]!];
    return { ...doc, receipts: rs };
  }, { rehash: false });
}

/** Inserts a made-up receipt at leaf `index` of entry `seq`. */
export async function insertLeaf(docs: DocumentStore, chain: string, seq: number, index: number, options: { rehash: boolean }): Promise<void> {
  const forged: ReceiptLeaf = { subject: 'tenant-a', kind: 'edge.webhook', outcome: 'accepted', data: { forged: 1 } };
  await editEntry(docs, chain, seq, (doc) => {
    const rs = [...(doc['receipts'] as string[])];
    rs.splice(index, 0, ...leafData([forged]));
    return { ...doc, receipts: rs };
  }, options);
}

/**
 * A fork: entry `seq` replaced by another batch that links to the same predecessor and is hashed correctly (what a
 * second writer could produce if ids did not refuse it, or an attacker with store access rewriting history).
 */
export async function forkEntry(docs: DocumentStore, chain: string, seq: number): Promise<void> {
  await editEntry(docs, chain, seq, (doc) => ({
    ...doc, receipts: leafData([{ subject: 'tenant-a', kind: 'edge.webhook', outcome: 'accepted', data: { fork: seq } }]),
  }), { rehash: true });
}

/** Edits a header field of entry `seq` in place (its time), without fixing the hash. */
export async function editHeader(docs: DocumentStore, chain: string, seq: number): Promise<void> {
  await editEntry(docs, chain, seq, (doc) => ({ ...doc, timeMs: (doc['timeMs'] as number) + 1 }), { rehash: false });
}

/** Edits entry `seq` (its first receipt); with `rehash` the attacker also fixes up its tree head and hash. */
export async function editReceipt(docs: DocumentStore, chain: string, seq: number, options: { rehash: boolean }): Promise<void> {
  await changeLeaf(docs, chain, seq, 0, options);
}

export async function deleteReceipt(docs: DocumentStore, chain: string, seq: number): Promise<void> {
  await docs.delete(chain, entryId(chain, seq));
}

/** Swaps the stored contents of two positions (each id now holds the other entry). */
export async function swapReceipts(docs: DocumentStore, chain: string, a: number, b: number): Promise<void> {
  const ra = await readDoc(docs, chain, entryId(chain, a));
  const rb = await readDoc(docs, chain, entryId(chain, b));
  await docs.replace(chain, { ...rb.doc, id: ra.doc.id }, { ifMatch: ra.etag });
  await docs.replace(chain, { ...ra.doc, id: rb.doc.id }, { ifMatch: rb.etag });
}

/** Deletes entries fromSeq..toSeq; with `checkpoints` also the checkpoints in that range (hiding the truncation). */
export async function truncate(
  docs: DocumentStore, chain: string, fromSeq: number, toSeq: number, options: { checkpoints: boolean; headHint?: boolean },
): Promise<void> {
  for (let seq = fromSeq; seq <= toSeq; seq += 1) {
    await docs.delete(chain, entryId(chain, seq));
    if (options.checkpoints) await docs.delete(chain, checkpointId(chain, seq));
  }
  if (options.headHint) await docs.delete(chain, `${chain}:head`);
}

/** Signs a fresh checkpoint over the (new) tip with the attacker's own key. */
export async function resignCheckpoint(docs: DocumentStore, chain: string, seq: number, key: KeyObject, timeMs: number): Promise<void> {
  const { doc } = await readDoc(docs, chain, entryId(chain, seq));
  const cp = signCheckpoint(key, {
    chain, seq, hash: doc['hash'] as string, timeMs, treeHead: doc['treeHead'] as string, size: doc['size'] as number,
  });
  await docs.upsert(chain, { ...cp, docType: 'checkpoint' });
}

/**
 * Re-signs checkpoint `seq` over the entry's current hash and tree head with `key` while keeping the trusted key id it
 * had: a forger who cannot sign with the release key but can write the store.
 */
export async function forgeCheckpointSignature(docs: DocumentStore, chain: string, seq: number, key: KeyObject): Promise<void> {
  const { doc: entry } = await readDoc(docs, chain, entryId(chain, seq));
  const { doc: checkpoint } = await readDoc(docs, chain, checkpointId(chain, seq));
  const forged = signCheckpoint(key, {
    chain, seq, hash: entry['hash'] as string, timeMs: checkpoint['timeMs'] as number,
    treeHead: entry['treeHead'] as string, size: entry['size'] as number,
  });
  await docs.upsert(chain, { ...forged, keyId: checkpoint['keyId'], docType: 'checkpoint' });
}

/** Rewrites entries fromSeq..toSeq with altered receipts and consistent links: only a checkpoint can catch it. */
export async function rebuildFrom(docs: DocumentStore, chain: string, fromSeq: number, toSeq: number): Promise<void> {
  let previousHash = fromSeq > 1 ? (await readDoc(docs, chain, entryId(chain, fromSeq - 1))).doc['hash'] as string : '0'.repeat(64);
  for (let seq = fromSeq; seq <= toSeq; seq += 1) {
    const { doc, etag } = await readDoc(docs, chain, entryId(chain, seq));
    const rebuilt = rehash({ ...doc, receipts: leafData(receiptsOf(doc).map((r) => ({ ...r, outcome: 'accepted', data: { rewritten: seq } }))), previousHash });
    await docs.replace(chain, rebuilt, { ifMatch: etag });
    previousHash = rebuilt['hash'] as string;
  }
}

/** Changes the hash a checkpoint vouches for but keeps its old signature. */
export async function forgeCheckpointHash(docs: DocumentStore, chain: string, seq: number): Promise<void> {
  const { doc, etag } = await readDoc(docs, chain, checkpointId(chain, seq));
  await docs.replace(chain, { ...doc, hash: 'f'.repeat(64) }, { ifMatch: etag });
}

/** Changes the tree head a checkpoint signs but keeps its old signature. */
export async function forgeCheckpointTreeHead(docs: DocumentStore, chain: string, seq: number): Promise<void> {
  const { doc, etag } = await readDoc(docs, chain, checkpointId(chain, seq));
  await docs.replace(chain, { ...doc, treeHead: 'e'.repeat(64) }, { ifMatch: etag });
}

/** Copies checkpoint `from` to position `to` unchanged (a replayed signature at the wrong place). */
export async function moveCheckpoint(docs: DocumentStore, chain: string, from: number, to: number): Promise<void> {
  const { doc } = await readDoc(docs, chain, checkpointId(chain, from));
  await docs.delete(chain, checkpointId(chain, from));
  await docs.upsert(chain, { ...doc, id: checkpointId(chain, to) });
}

/** Adds a field outside the hashed set to an entry (content an auditor might read but no hash covers). */
export async function addUnhashedField(docs: DocumentStore, chain: string, seq: number): Promise<void> {
  const { doc, etag } = await readDoc(docs, chain, entryId(chain, seq));
  await docs.replace(chain, { ...doc, note: 'approved by admin' }, { ifMatch: etag });
}

/** Adds a field outside the hashed set to one receipt of an entry. */
export async function addUnhashedLeafField(docs: DocumentStore, chain: string, seq: number, index: number): Promise<void> {
  await editEntry(docs, chain, seq, (doc) => ({
    // Leaf data with a field outside the four (encoded as canonically as the rest).
    ...doc, receipts: (doc['receipts'] as string[]).map((r, i) => (i === index ? canonicalJson({ ...JSON.parse(r), note: 'approved by admin' }) : r)),
  }), { rehash: false });
}

/** Stores a record with an id that is not an entry id but claims to be a receipt. */
export async function injectForeignRecord(docs: DocumentStore, chain: string): Promise<void> {
  await docs.create(chain, { id: `${chain}:zzz`, docType: 'receipt', seq: 1 });
}
