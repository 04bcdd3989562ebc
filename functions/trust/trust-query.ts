// Query parameters of the trust read routes, one zod schema each; errors name parameters, never values.
import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import { ENTITY_ID_RE } from '../../core/edge/edge-ids';
import { issuePaths } from '../../core/webhook/parse-event';
import { TRUST_GRAPH_CURSOR_RE, TRUST_GRAPH_PAGE_MAX } from '../../core/trust/page-trust-graph';

export const trustGraphQuerySchema = z.strictObject({
  tenant: z.string().regex(ENTITY_ID_RE),
  since: z.string().regex(/^\d{1,15}$/).transform(Number).optional(),
  /** Paged form (either parameter): at most `limit` nodes + scores + edges per answer, `cursor` from the last page. */
  limit: z.string().regex(/^\d{1,4}$/).transform(Number).pipe(z.number().int().min(1).max(TRUST_GRAPH_PAGE_MAX)).optional(),
  cursor: z.string().regex(TRUST_GRAPH_CURSOR_RE).optional(),
});

export const trustScoreQuerySchema = z.strictObject({
  tenant: z.string().regex(ENTITY_ID_RE),
  observer: z.string().regex(ENTITY_ID_RE),
});

export function parseQuery<S extends z.ZodType>(req: HttpRequest, schema: S): { ok: true; value: z.infer<S> } | { ok: false; message: string } {
  const entries: Record<string, string> = {};
  for (const [k, v] of req.query.entries()) {
    // A repeated parameter is ambiguous: refuse it rather than pick one.
    if (Object.hasOwn(entries, k)) return { ok: false, message: 'repeated query parameter' };
    entries[k] = v;
  }
  const parsed = schema.safeParse(entries);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, message: `invalid query parameters: ${issuePaths(parsed.error).join(', ')}` };
}
