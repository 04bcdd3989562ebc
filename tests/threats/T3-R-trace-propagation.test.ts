// T3-R "Foundry call not linked to agent": the router continues the agent's W3C trace, is the parent of the upstream call, and records the same ids in its span and receipt.
// Defends: a model call that cannot be traced back to the agent call that caused it: the upstream sees `traceparent` (parent = the router's CLIENT span) and `x-kars-trace-id`, the agent gets them echoed, and span and receipt carry the same trace id.
// Real OpenTelemetry SDK (in-memory exporter) and a scripted upstream that records the headers it got. With
// `trace-propagation` off the router forwards the agent's header untouched: the upstream call is not a child of the
// router's span and the receipt's trace id is one the upstream never saw.
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestReceipt, ReceiptSink } from '../../core/ports/receipt-sink.port';
import type { RouterMitigation } from '../../core/router/router-mitigations';
import { startIdentityServer, type IdentityServer } from '../../infra/local/identity/identity-server';
import { createRouterTelemetry } from '../../sandbox-node/router/router-telemetry';
import { startRouterStack } from '../integration/router/router-stack';
import { okJson, startTestUpstream, type TestUpstream } from '../integration/router/test-upstream';

const AGENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const AGENT_SPAN = '00f067aa0ba902b7';
let identity: IdentityServer;
let upstream: TestUpstream;

beforeAll(async () => {
  identity = await startIdentityServer();
  upstream = await startTestUpstream((_req, res) => okJson(res, { id: 'chatcmpl-1', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }));
});
afterAll(async () => {
  await upstream?.stop();
  await identity?.stop();
});

async function callOnce(disable: RouterMitigation[], traceparent?: string) {
  const exporter = new InMemorySpanExporter();
  const telemetry = createRouterTelemetry({ sandboxId: 'test-sandbox', processors: [new SimpleSpanProcessor(exporter)] });
  const receipts: RequestReceipt[] = [];
  const sink: ReceiptSink = { append: async (r) => { receipts.push(r); return r.requestHash; } };
  const s = await startRouterStack({ identity, upstreamUrl: upstream.url, tracer: telemetry.tracer, receipts: sink, _disable: disable });
  try {
    const r = await fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(traceparent ? { traceparent } : {}) },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await r.text();
    const seen = upstream.seen.at(-1)!;
    await waitFor(() => exporter.getFinishedSpans().length === 1 && (disable.includes('call-receipts') || receipts.length === 1));
    return { r, seen, span: exporter.getFinishedSpans()[0]!, receipt: receipts[0] };
  } finally { await s.stop(); await telemetry.shutdown(); }
}

describe('T3-R trace propagation through the router', () => {
  it("ON: the agent's trace continues: upstream parent = router span, same ids in echo, span and receipt", async () => {
    const { r, seen, span, receipt } = await callOnce([], `00-${AGENT_TRACE}-${AGENT_SPAN}-01`);
    const sc = span.spanContext();
    expect(sc.traceId).toBe(AGENT_TRACE);
    expect(span.parentSpanContext?.spanId).toBe(AGENT_SPAN);
    expect(seen.headers['traceparent']).toBe(`00-${AGENT_TRACE}-${sc.spanId}-01`);
    expect(seen.headers['x-kars-trace-id']).toBe(AGENT_TRACE);
    expect(r.headers.get('traceparent')).toBe(`00-${AGENT_TRACE}-${sc.spanId}-01`);
    expect(r.headers.get('x-kars-trace-id')).toBe(AGENT_TRACE);
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'azure.ai.openai', 'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.id': 'chatcmpl-1', 'gen_ai.usage.input_tokens': 3, 'gen_ai.usage.output_tokens': 2,
    });
    expect(receipt).toMatchObject({ kind: 'router.model', status: 200, subject: { traceId: AGENT_TRACE, spanId: sc.spanId, sandboxId: 'test-sandbox', agentId: 'test-sandbox' } });
  });

  it('ON: without (or with a malformed) traceparent the router starts a trace and uses it everywhere', async () => {
    for (const tp of [undefined, `00-${'0'.repeat(32)}-${AGENT_SPAN}-01`, 'garbage']) {
      const { r, seen, span, receipt } = await callOnce([], tp);
      const sc = span.spanContext();
      expect(sc.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(sc.traceId).not.toBe('0'.repeat(32));
      expect(seen.headers['x-kars-trace-id']).toBe(sc.traceId);
      expect(seen.headers['traceparent']).toBe(`00-${sc.traceId}-${sc.spanId}-01`);
      expect(r.headers.get('x-kars-trace-id')).toBe(sc.traceId);
      expect(receipt?.subject['traceId']).toBe(sc.traceId);
    }
  });

  it('OFF (trace-propagation): the upstream call is not linked to the router span or its receipt', async () => {
    const { r, seen, span, receipt } = await callOnce(['trace-propagation'], `00-${AGENT_TRACE}-${AGENT_SPAN}-01`);
    const sc = span.spanContext();
    expect(seen.headers['traceparent']).toBe(`00-${AGENT_TRACE}-${AGENT_SPAN}-01`); // passed through untouched
    expect(seen.headers['traceparent']).not.toContain(sc.spanId);
    expect(sc.traceId).not.toBe(AGENT_TRACE);
    expect(receipt?.subject['traceId']).not.toBe(AGENT_TRACE);
    expect(r.headers.get('x-kars-trace-id')).toBeNull();
  });
});

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}
