// Ships receipt batches to the Functions app's `POST /api/audit/router-receipts` (T2-R, T3-R), authenticated with the
// pod's projected service-account token (audience `kars-audit`), read from its file on every request because the
// kubelet rotates it. The token never appears in a log line or error. Mapping: 200 → ids; 400/413/415 (the app can
// never take this batch) → drop; 401/403 (token being rotated, or a wrong binding fixed by a redeploy), 429, 5xx and
// network errors → retry, honouring Retry-After.
import { promises as fs } from 'node:fs';
import { z } from 'zod';
import type { ReceiptTransport, ShipResult } from '../../../core/ports/receipt-transport.port';
import { ROUTER_TOKEN_HEADER } from '../../../core/mesh/router-auth/verify-router-token';

export const ROUTER_RECEIPTS_PATH = '/api/audit/router-receipts';

export interface HttpReceiptTransportOptions {
  /** The Functions app's base URL (https, or http on loopback for the local stack). */
  readonly baseUrl: URL;
  readonly tokenFile: string;
  readonly timeoutMs?: number;
  readonly fetchImpl?: typeof fetch;
}

const answerSchema = z.object({ ids: z.array(z.string()) });

export function createHttpReceiptTransport(options: HttpReceiptTransportOptions): ReceiptTransport {
  const url = new URL(ROUTER_RECEIPTS_PATH.slice(1), options.baseUrl.href.endsWith('/') ? options.baseUrl : new URL(`${options.baseUrl.href}/`));
  const doFetch = options.fetchImpl ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async ship(receipts, callOptions): Promise<ShipResult> {
      let token: string;
      try {
        token = (await fs.readFile(options.tokenFile, 'utf8')).trim();
      } catch {
        return { ok: false, action: 'retry', code: 'IDENTITY_UNAVAILABLE' };
      }
      const signals = [AbortSignal.timeout(timeoutMs), ...(callOptions?.abortSignal ? [callOptions.abortSignal] : [])];
      let res: Response;
      try {
        res = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [ROUTER_TOKEN_HEADER]: token },
          body: JSON.stringify({ receipts }),
          signal: AbortSignal.any(signals),
        });
      } catch {
        return { ok: false, action: 'retry', code: 'DEPENDENCY_UNAVAILABLE' };
      }
      const body = await res.json().catch(() => undefined) as { code?: unknown } | undefined;
      if (res.status === 200) {
        const parsed = answerSchema.safeParse(body);
        return parsed.success && parsed.data.ids.length === receipts.length
          ? { ok: true, ids: parsed.data.ids }
          : { ok: false, action: 'retry', code: 'DEPENDENCY_UNAVAILABLE' };
      }
      const code = typeof body?.code === 'string' ? body.code.slice(0, 64) : `HTTP_${res.status}`;
      if (res.status === 400 || res.status === 413 || res.status === 415) return { ok: false, action: 'drop', code };
      const retryAfter = Number(res.headers.get('retry-after'));
      return { ok: false, action: 'retry', code, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: Math.min(retryAfter, 300) * 1000 } : {}) };
    },
  };
}
