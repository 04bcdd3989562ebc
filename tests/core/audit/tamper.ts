// What an attacker with write access to the receipts store can do, as plain DocumentStore edits (memory or Cosmos).
import type { KeyObject } from 'node:crypto';
import { signCheckpoint } from '../../../core/audit/checkpoint';
import { checkpointId, hashReceipt, receiptId } from '../../../core/audit/receipt';
import type { ReceiptCore } from '../../../core/audit/receipt';
import type { DocumentBody, DocumentStore } from '../../../core/ports/document-store.port';

async function readDoc(docs: DocumentStore, chain: string, id: string): Promise<{ doc: DocumentBody; etag: string }> {
  const found = await docs.read(chain, id);
  if (!found) throw new Error(`tamper: ${id} not found`);
  return found;
}

function rehash(doc: DocumentBody): DocumentBody {
  return { ...doc, hash: hashReceipt(doc as unknown as ReceiptCore) };
}

/** Edits a receipt's data in place; with `rehash` the attacker also fixes up its own hash. */
export async function editReceipt(docs: DocumentStore, chain: string, seq: number, options: { rehash: boolean }): Promise<void> {
  const { doc, etag } = await readDoc(docs, chain, receiptId(chain, seq));
  const edited: DocumentBody = { ...doc, outcome: doc['outcome'] === 'accepted' ? 'rejected' : 'accepted' };
  await docs.replace(chain, options.rehash ? rehash(edited) : edited, { ifMatch: etag });
}

export async function deleteReceipt(docs: DocumentStore, chain: string, seq: number): Promise<void> {
  await docs.delete(chain, receiptId(chain, seq));
}

/** Swaps the stored contents of two positions (each id now holds the other receipt). */
export async function swapReceipts(docs: DocumentStore, chain: string, a: number, b: number): Promise<void> {
  const ra = await readDoc(docs, chain, receiptId(chain, a));
  const rb = await readDoc(docs, chain, receiptId(chain, b));
  await docs.replace(chain, { ...rb.doc, id: ra.doc.id }, { ifMatch: ra.etag });
  await docs.replace(chain, { ...ra.doc, id: rb.doc.id }, { ifMatch: rb.etag });
}

/** Deletes receipts fromSeq..toSeq; with `checkpoints` also the checkpoints in that range (hiding the truncation). */
export async function truncate(
  docs: DocumentStore, chain: string, fromSeq: number, toSeq: number, options: { checkpoints: boolean; headHint?: boolean },
): Promise<void> {
  for (let seq = fromSeq; seq <= toSeq; seq += 1) {
    await docs.delete(chain, receiptId(chain, seq));
    if (options.checkpoints) await docs.delete(chain, checkpointId(chain, seq));
  }
  if (options.headHint) await docs.delete(chain, `${chain}:head`);
}

/** Signs a fresh checkpoint over the (new) tip with the attacker's own key. */
export async function resignCheckpoint(docs: DocumentStore, chain: string, seq: number, key: KeyObject, timeMs: number): Promise<void> {
  const { doc } = await readDoc(docs, chain, receiptId(chain, seq));
  const cp = signCheckpoint(key, { chain, seq, hash: doc['hash'] as string, timeMs });
  await docs.upsert(chain, { ...cp, docType: 'checkpoint' });
}

/**
 * Re-signs checkpoint `seq` over the receipt's current hash with `key` while keeping the trusted key id it had: a
 * forger who cannot sign with the release key but can write the store.
 */
export async function forgeCheckpointSignature(docs: DocumentStore, chain: string, seq: number, key: KeyObject): Promise<void> {
  const { doc: receipt } = await readDoc(docs, chain, receiptId(chain, seq));
  const { doc: checkpoint } = await readDoc(docs, chain, checkpointId(chain, seq));
  const forged = signCheckpoint(key, { chain, seq, hash: receipt['hash'] as string, timeMs: checkpoint['timeMs'] as number });
  await docs.upsert(chain, { ...forged, keyId: checkpoint['keyId'], docType: 'checkpoint' });
}

/** Rewrites receipts fromSeq..toSeq with altered content and consistent links: only a checkpoint can catch it. */
export async function rebuildFrom(docs: DocumentStore, chain: string, fromSeq: number, toSeq: number): Promise<void> {
  let previousHash = fromSeq > 1 ? (await readDoc(docs, chain, receiptId(chain, fromSeq - 1))).doc['hash'] as string : '0'.repeat(64);
  for (let seq = fromSeq; seq <= toSeq; seq += 1) {
    const { doc, etag } = await readDoc(docs, chain, receiptId(chain, seq));
    const rebuilt = rehash({ ...doc, outcome: 'accepted', data: { rewritten: seq }, previousHash });
    await docs.replace(chain, rebuilt, { ifMatch: etag });
    previousHash = rebuilt['hash'] as string;
  }
}

/** Changes the hash a checkpoint vouches for but keeps its old signature. */
export async function forgeCheckpointHash(docs: DocumentStore, chain: string, seq: number): Promise<void> {
  const { doc, etag } = await readDoc(docs, chain, checkpointId(chain, seq));
  await docs.replace(chain, { ...doc, hash: 'f'.repeat(64) }, { ifMatch: etag });
}

/** Copies checkpoint `from` to position `to` unchanged (a replayed signature at the wrong place). */
export async function moveCheckpoint(docs: DocumentStore, chain: string, from: number, to: number): Promise<void> {
  const { doc } = await readDoc(docs, chain, checkpointId(chain, from));
  await docs.delete(chain, checkpointId(chain, from));
  await docs.upsert(chain, { ...doc, id: checkpointId(chain, to) });
}

/** Adds a field outside the hashed set to a receipt (content an auditor might read but no hash covers). */
export async function addUnhashedField(docs: DocumentStore, chain: string, seq: number): Promise<void> {
  const { doc, etag } = await readDoc(docs, chain, receiptId(chain, seq));
  await docs.replace(chain, { ...doc, note: 'approved by admin' }, { ifMatch: etag });
}

/** Stores a record with an id that is not a receipt id but claims to be a receipt. */
export async function injectForeignRecord(docs: DocumentStore, chain: string): Promise<void> {
  await docs.create(chain, { id: `${chain}:zzz`, docType: 'receipt', seq: 1 });
}
