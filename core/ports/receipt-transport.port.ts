// How a router hands a batch of its receipts to the audit chain's writer (the Functions app route
// `POST /api/audit/router-receipts`); the adapter authenticates with the router's service-account token.
import type { RequestReceipt } from './receipt-sink.port';

export type ShipResult =
  | { readonly ok: true; readonly ids: readonly string[] }
  /** `retry`: send the same batch again later (outage, throttling, token rotation); `drop`: it can never be accepted. */
  | { readonly ok: false; readonly action: 'retry' | 'drop'; readonly code: string; readonly retryAfterMs?: number };

export interface ReceiptTransport {
  /** Never throws: every failure is a ShipResult. */
  ship(receipts: readonly RequestReceipt[], options?: { abortSignal?: AbortSignal }): Promise<ShipResult>;
}
