// Router receipts as the router makes them (core/router/call-receipt.ts), for the spool, shipper and route tests.
import { callReceipt } from '../../../../core/router/call-receipt';
import type { RequestReceipt } from '../../../../core/ports/receipt-sink.port';

export function modelReceipt(n: number, sandboxId = 'sbx-a', traceId = n.toString(16).padStart(32, '0')): RequestReceipt {
  return callReceipt({
    kind: 'router.model', sandboxId, agentId: sandboxId, operation: 'chat', target: 'gpt-4o-mini', traceId,
    spanId: n.toString(16).padStart(16, '0'), status: 200, inputTokens: 3, outputTokens: n, responseId: `c${n}`, atMs: 1_760_000_000_000 + n,
  });
}
