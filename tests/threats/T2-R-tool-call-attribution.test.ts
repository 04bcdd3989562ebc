// T2-R "Tool calls not attributable": every tool tunnel and model call through the router leaves a receipt and a span naming the sandbox, agent, target, trace id and outcome.
// Defends: an agent's tool calls (CONNECT tunnels) or model calls that no record ties to the sandbox and agent that made them, refused ones included; receipts hold no content.
// One router with the CONNECT handler mounted (stand-in internet: natDialer, scripted resolver), the real
// OpenTelemetry SDK over an in-memory exporter and an in-memory ReceiptSink. With `call-receipts` off the same calls
// leave no receipt: nothing in the audit attributes them.
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreakerSet, TOOL_BREAKER_DEFAULTS } from '../../core/limits/circuit-breaker-set';
import { silentLogger } from '../../core/ports/logger.port';
import type { RequestReceipt, ReceiptSink } from '../../core/ports/receipt-sink.port';
import { parseEgressAllowlist } from '../../core/router/egress/egress-allowlist';
import type { RouterMitigation } from '../../core/router/router-mitigations';
import { startIdentityServer, type IdentityServer } from '../../infra/local/identity/identity-server';
import { createConnectHandler } from '../../sandbox-node/router/egress/connect-proxy';
import { createRouterTelemetry } from '../../sandbox-node/router/router-telemetry';
import { startRouterStack } from '../integration/router/router-stack';
import { okJson, startTestUpstream, type TestUpstream } from '../integration/router/test-upstream';
import { codeOf, connectThrough, MemoryEgressAudit, natDialer, ScriptedResolver, startTaggedServer } from '../support/egress-net';

const PROMPT = 'secret-prompt-text-7f3a';
let identity: IdentityServer;
let upstream: TestUpstream;
let tool: Awaited<ReturnType<typeof startTaggedServer>>;

beforeAll(async () => {
  identity = await startIdentityServer();
  tool = await startTaggedServer('tool-ok');
  upstream = await startTestUpstream((_req, res) => okJson(res, { id: 'c9', choices: [{ message: { content: PROMPT } }], usage: { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 } }));
});
afterAll(async () => {
  await upstream?.stop();
  await tool?.close();
  await identity?.stop();
});

async function scenario(disable: RouterMitigation[]) {
  const exporter = new InMemorySpanExporter();
  const telemetry = createRouterTelemetry({ sandboxId: 'sbx-r', processors: [new SimpleSpanProcessor(exporter)] });
  const receipts: RequestReceipt[] = [];
  const sink: ReceiptSink = { append: async (r) => { receipts.push(r); return r.requestHash; } };
  const connect = createConnectHandler(
    { resolver: new ScriptedResolver({ 'tool.example.com': [['52.20.0.9']] }), audit: new MemoryEgressAudit(), breakers: new CircuitBreakerSet({ nowMs: () => Date.now() }, TOOL_BREAKER_DEFAULTS), clock: { nowMs: () => Date.now() }, logger: silentLogger, dial: natDialer(new Map([['52.20.0.9:443', tool.port]])) },
    { sandboxId: 'sbx-r', allowlist: parseEgressAllowlist(['tool.example.com:443']) },
  );
  const s = await startRouterStack({ identity, upstreamUrl: upstream.url, tracer: telemetry.tracer, receipts: sink, connect, sandboxId: 'sbx-r', _disable: disable });
  const port = Number(new URL(s.url).port);
  try {
    const ok = await connectThrough(port, 'tool.example.com:443');
    expect(codeOf(ok)).toBe('200:tool-ok');
    ok.socket.destroy();
    const refused = await connectThrough(port, 'evil.example.com:443');
    expect(codeOf(refused)).toBe('EGRESS_HOST_NOT_ALLOWED');
    refused.socket.destroy();
    const r = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] }) });
    await r.text();
    await waitFor(() => exporter.getFinishedSpans().length === 3 && (disable.includes('call-receipts') || receipts.length === 3));
    return { spans: exporter.getFinishedSpans(), receipts };
  } finally { await s.stop(); await telemetry.shutdown(); }
}

describe('T2-R tool and model calls are attributable', () => {
  it('ON: a receipt and a CLIENT span per tunnel (opened or refused) and per model call, linked by trace id, no content', async () => {
    const { spans, receipts } = await scenario([]);
    const tools = receipts.filter((r) => r.kind === 'router.tool');
    expect(tools.map((r) => [r.status, r.code ?? null, r.subject['target']]).sort()).toEqual([
      [200, null, 'tool.example.com:443'], [403, 'EGRESS_HOST_NOT_ALLOWED', 'evil.example.com:443'],
    ]);
    for (const r of receipts) expect(r.subject).toMatchObject({ sandboxId: 'sbx-r', agentId: 'sbx-r' });
    const model = receipts.find((r) => r.kind === 'router.model')!;
    expect(model.subject).toMatchObject({ operation: 'chat', target: 'gpt-4o-mini', inputTokens: '4', outputTokens: '1', responseId: 'c9' });
    for (const r of receipts) {
      const span = spans.find((sp) => sp.spanContext().spanId === r.subject['spanId'])!;
      expect(span.spanContext().traceId).toBe(r.subject['traceId']);
      expect(span.kind).toBe(SpanKind.CLIENT);
    }
    const refusedSpan = spans.find((sp) => sp.attributes['server.address'] === 'evil.example.com:443')!;
    expect(refusedSpan.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'error.type': 'EGRESS_HOST_NOT_ALLOWED' });
    expect(JSON.stringify(receipts)).not.toContain(PROMPT);
  });

  it('OFF (call-receipts): the same tunnels and call leave no receipt', async () => {
    const { spans, receipts } = await scenario(['call-receipts']);
    expect(spans).toHaveLength(3);
    expect(receipts).toEqual([]);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}
