// T2-R / T3-R: the span and the receipt of one model call or tool tunnel. The span follows the GenAI semantic
// conventions (kind CLIENT; gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model, gen_ai.response.id,
// gen_ai.usage.input_tokens / output_tokens, error.type); its trace id and span id go upstream in `traceparent`
// and `x-kars-trace-id`, and into the receipt, so the agent's call, the router's span, the upstream's logs and the
// audit record link up.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { randomFillSync } from 'node:crypto';
import type { Logger } from '../../core/ports/logger.port';
import type { ReceiptSink } from '../../core/ports/receipt-sink.port';
import { callReceipt, type CallRecord } from '../../core/router/call-receipt';
import { formatTraceParent, parseTraceParent } from '../../core/router/trace/traceparent';

/** Azure OpenAI / Foundry as the GenAI conventions name it. */
export const GEN_AI_PROVIDER = 'azure.ai.openai';

const OPERATION_NAMES: Readonly<Record<string, string>> = { chat: 'chat', embeddings: 'embeddings', responses: 'chat', connect: 'execute_tool' };

export interface CallTelemetryDeps {
  /** Absent when no span would be exported: the call still gets its trace and span ids (traceparent, receipt). */
  readonly tracer?: Tracer;
  readonly receipts?: ReceiptSink;
  readonly logger: Logger;
  readonly nowMs: () => number;
}

export interface CallContext {
  readonly sandboxId: string;
  readonly agentId: string;
  readonly operation: string;
  readonly target: string;
  /** The agent's `traceparent` header, if any. */
  readonly incoming: string | undefined;
  /** Off (attack tests): the agent's trace is not continued and nothing is linked. */
  readonly propagate: boolean;
  readonly receipt: boolean;
}

export interface CallOutcome {
  status: number;
  code?: string;
  target?: string;
  inputTokens?: number;
  outputTokens?: number;
  responseId?: string;
}

export interface CallTelemetry {
  readonly traceId: string;
  /** The `traceparent` to send upstream and echo to the agent (the router's span as parent). */
  readonly traceparent: string;
  /** Absent on the ids-only path (no tracer). */
  readonly span?: Span;
  end(outcome: CallOutcome): Promise<void>;
}

export function startCall(deps: CallTelemetryDeps, c: CallContext): CallTelemetry {
  const parent = c.propagate ? parseTraceParent(c.incoming) : undefined;
  const op = OPERATION_NAMES[c.operation] ?? c.operation;
  let span: Span | undefined;
  let sc: { traceId: string; spanId: string; traceFlags: number };
  if (deps.tracer) {
    const ctx = parent
      ? trace.setSpanContext(ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.parentId, traceFlags: parent.flags & 1, isRemote: true })
      : ROOT_CONTEXT;
    span = deps.tracer.startSpan(`${op} ${c.target}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': op,
        ...(c.operation === 'connect'
          ? { 'server.address': c.target }
          : { 'gen_ai.provider.name': GEN_AI_PROVIDER, 'gen_ai.request.model': c.target }),
        'kars.sandbox.id': c.sandboxId,
        'kars.agent.id': c.agentId,
      },
    }, ctx);
    sc = span.spanContext();
  } else {
    // The ids the SDK's default (parent-based, always-on) sampler would give: the agent's trace continued with its
    // sampled flag, or a new sampled trace.
    sc = { traceId: parent?.traceId ?? randomHexId(16), spanId: randomHexId(8), traceFlags: parent ? parent.flags & 1 : 1 };
  }
  const atMs = deps.nowMs();
  let ended = false;
  return {
    traceId: sc.traceId,
    traceparent: formatTraceParent(sc.traceId, sc.spanId, sc.traceFlags),
    ...(span ? { span } : {}),
    async end(o) {
      if (ended) return;
      ended = true;
      if (span) endSpan(span, c, o);
      if (!c.receipt || !deps.receipts) return;
      const record: CallRecord = {
        kind: c.operation === 'connect' ? 'router.tool' : 'router.model',
        sandboxId: c.sandboxId, agentId: c.agentId, operation: c.operation, target: o.target ?? c.target,
        traceId: sc.traceId, spanId: sc.spanId, status: o.status, atMs,
        ...(o.code === undefined ? {} : { code: o.code }),
        ...(o.inputTokens === undefined ? {} : { inputTokens: o.inputTokens }),
        ...(o.outputTokens === undefined ? {} : { outputTokens: o.outputTokens }),
        ...(o.responseId === undefined ? {} : { responseId: o.responseId }),
      };
      try {
        await deps.receipts.append(callReceipt(record));
      } catch {
        deps.logger.error('router.receipt_failed', { sandboxId: c.sandboxId, name: record.kind });
      }
    },
  };
}

function endSpan(span: Span, c: CallContext, o: CallOutcome): void {
  if (o.responseId !== undefined) span.setAttribute('gen_ai.response.id', o.responseId);
  if (o.inputTokens !== undefined) span.setAttribute('gen_ai.usage.input_tokens', o.inputTokens);
  if (o.outputTokens !== undefined) span.setAttribute('gen_ai.usage.output_tokens', o.outputTokens);
  if (o.target !== undefined && c.operation !== 'connect') span.setAttribute('gen_ai.response.model', o.target);
  span.setAttribute('http.response.status_code', o.status);
  if (o.status >= 400 || o.status === 0) {
    span.setAttribute('error.type', o.code ?? String(o.status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Random lower-case hex of `bytes` bytes, never all zero (an invalid W3C id), from a pooled CSPRNG buffer. */
function randomHexId(bytes: number): string {
  for (;;) {
    if (poolAt + bytes > pool.length) { randomFillSync(pool); poolAt = 0; }
    const id = pool.toString('hex', poolAt, poolAt + bytes);
    poolAt += bytes;
    if (!/^0+$/.test(id)) return id;
  }
}
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

/**
 * Reports the status line (and the refusal's `code`) a CONNECT handler writes to the client socket, so the tool
 * call's span and receipt carry its outcome without the handler knowing about either.
 */
export function observeTunnelAnswer(socket: { write: (...a: never[]) => boolean; end: (...a: never[]) => unknown }, onAnswer: (status: number, code: string | undefined) => void): void {
  let seen = false;
  const sniff = (chunk: unknown): void => {
    if (seen) return;
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('latin1') : '';
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
    if (!m) return;
    seen = true;
    onAnswer(Number(m[1]), /"code":"([A-Z_]+)"/.exec(text)?.[1]);
  };
  const s = socket as unknown as { write: (...a: unknown[]) => boolean; end: (...a: unknown[]) => unknown };
  const write = s.write.bind(s);
  const end = s.end.bind(s);
  s.write = (...a: unknown[]) => { sniff(a[0]); return write(...a); };
  s.end = (...a: unknown[]) => { sniff(a[0]); return end(...a); };
}
