// The console's audit data (T1-R): chain heads with their latest checkpoint, the verify action (the verifier of
// `kars audit verify`, one chain a request) and one receipt with its inclusion proof (as `kars audit prove`).
import { z } from 'zod';
import { readChainHeads } from '../../core/console/chain-heads';
import { buildReceiptProof, verifyReceiptProof } from '../../core/audit/prove-receipt';
import { parseReceiptId } from '../../core/audit/receipt';
import { verifyAuditLog } from '../../core/audit/verify-chain';
import { errorResponse, jsonResponse } from '../http/json-response';
import { parseQuery } from '../trust/trust-query';
import type { ConsoleDataHandler } from './console-data-route';

export const consoleChainHeads: ConsoleDataHandler = async (_req, deps) =>
  jsonResponse(200, { chains: await readChainHeads(deps.store, await deps.chains()) });

const verifyQuery = z.strictObject({ chain: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/) });

export const consoleVerifyChain: ConsoleDataHandler = async (req, deps) => {
  const q = parseQuery(req, verifyQuery);
  if (!q.ok) return errorResponse('INPUT_INVALID', q.message);
  if (!(await deps.chains()).includes(q.value.chain)) return errorResponse('NOT_FOUND', 'no such chain');
  const report = await verifyAuditLog(deps.store, { trustedKeys: await deps.trustedKeys(), chains: [q.value.chain] });
  const chain = report.chains[0];
  return jsonResponse(200, { ok: report.ok, receipts: report.receipts, entries: report.entries, break: chain?.break ?? null, lastCheckpoint: report.lastCheckpoint ?? null });
};

export const consoleReceipt: ConsoleDataHandler = async (req, deps) => {
  const id = req.params['receiptId'] ?? '';
  const at = parseReceiptId(id);
  if (!at) return errorResponse('INPUT_INVALID', 'a receipt id is <chain>:<seq, 12 digits>:<index, 3 digits>');
  const trustedKeys = await deps.trustedKeys();
  const built = await buildReceiptProof(deps.store, id, trustedKeys);
  if (built.found) {
    const verdict = verifyReceiptProof(built.proof, trustedKeys);
    return jsonResponse(200, { receiptId: id, proven: verdict.ok, reason: verdict.ok ? null : verdict.reason, receipt: verdict.ok ? verdict.receipt : null, proof: built.proof });
  }
  if (built.reason === 'unknown-receipt') return errorResponse('NOT_FOUND', 'no such receipt');
  // Not yet covered by a checkpoint (or a broken chain): the stored receipt as it is, marked unproven.
  const entry = await deps.store.readEntry(at.chain, at.seq);
  const leaves = entry?.body['receipts'];
  const leaf = Array.isArray(leaves) && at.index !== undefined && typeof leaves[at.index] === 'string' ? parseLeaf(leaves[at.index] as string) : null;
  return jsonResponse(200, { receiptId: id, proven: false, reason: built.reason, receipt: leaf, proof: null });
};

function parseLeaf(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return null;
  }
}
