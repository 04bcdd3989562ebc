// GET /api/console/data/edge?minutes=&bucketSec=: accepted and refused webhooks per hook and per refusal code over the
// last `minutes`, from the newest entries of each receipt chain (one bounded page, never a whole chain).
import { z } from 'zod';
import { bucketEdgeTraffic, MAX_BUCKETS } from '../../core/console/edge-traffic';
import { readRecentEntries } from '../../core/console/read-recent-entries';
import { errorResponse, jsonResponse } from '../http/json-response';
import { parseQuery } from '../trust/trust-query';
import type { ConsoleDataHandler } from './console-data-route';

/** Entries read a chain at most per request: 500 × up to 256 receipts. */
export const MAX_ENTRIES_PER_CHAIN = 500;

const querySchema = z.strictObject({
  minutes: z.string().regex(/^\d{1,5}$/).transform(Number).pipe(z.number().int().min(1).max(7 * 24 * 60)).optional(),
  bucketSec: z.string().regex(/^\d{1,6}$/).transform(Number).pipe(z.number().int().min(1).max(86_400)).optional(),
});

export const consoleEdgeTraffic: ConsoleDataHandler = async (req, deps) => {
  const q = parseQuery(req, querySchema);
  if (!q.ok) return errorResponse('INPUT_INVALID', q.message);
  const minutes = q.value.minutes ?? 60;
  const windowMs = minutes * 60_000;
  const bucketMs = Math.max((q.value.bucketSec ?? 60) * 1000, Math.ceil(windowMs / MAX_BUCKETS));
  const toMs = Math.ceil(deps.clock.nowMs() / bucketMs) * bucketMs;
  const fromMs = toMs - Math.ceil(windowMs / bucketMs) * bucketMs;
  const page = await readRecentEntries(deps.store, await deps.chains(), { sinceMs: fromMs, maxEntriesPerChain: MAX_ENTRIES_PER_CHAIN });
  return jsonResponse(200, { ...bucketEdgeTraffic(page.entries, { fromMs, toMs, bucketMs }), truncatedChains: page.truncated });
};
