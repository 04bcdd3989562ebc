// RR3: the real token usage of a model call, read from the response as it passes (never buffered for the agent):
// `usage.total_tokens` of a JSON body (chat, embeddings, responses), the final usage chunk of a streamed chat
// (`stream_options.include_usage`), or `response.usage` of the Responses API's `response.completed` event. Undefined
// when the upstream reported none: the caller then charges the whole reservation.

export interface UsageReport {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly totalTokens: number;
  /** The response id (`id` of the completion or response), for the span and the receipt. */
  readonly responseId?: string;
}

export interface UsageScanner {
  push(chunk: string): void;
  /** Usage seen so far (streams: the last usage object). */
  result(): UsageReport | undefined;
  /** Response id seen so far. */
  responseId(): string | undefined;
}

/** JSON bodies larger than this are not parsed for usage (the whole reservation is charged). */
const MAX_JSON_CHARS = 8 * 1024 * 1024;
/** An SSE line longer than this is skipped (a usage event is small). */
const MAX_LINE_CHARS = 1024 * 1024;

export function createUsageScanner(stream: boolean): UsageScanner {
  let usage: UsageReport | undefined;
  let id: string | undefined;
  if (!stream) {
    let text = '';
    let over = false;
    let parsed = false;
    const parse = (): void => {
      if (parsed || over) return;
      parsed = true;
      try {
        const v = JSON.parse(text) as Record<string, unknown>;
        id = typeof v['id'] === 'string' ? v['id'] : undefined;
        usage = readUsage(v['usage']);
      } catch { /* not JSON: no usage */ }
    };
    return {
      push(chunk) {
        if (over) return;
        text += chunk;
        if (text.length > MAX_JSON_CHARS) { over = true; text = ''; }
      },
      result() { parse(); return usage && { ...usage, ...(id ? { responseId: id } : {}) }; },
      responseId() { parse(); return id; },
    };
  }
  let line = '';
  let skipping = false;
  const onLine = (l: string): void => {
    if (!l.startsWith('data:')) return;
    const data = l.slice(5).trim();
    if (data === '' || data === '[DONE]') return;
    let v: Record<string, unknown>;
    try { v = JSON.parse(data) as Record<string, unknown>; } catch { return; }
    if (typeof v['id'] === 'string' && id === undefined) id = v['id'];
    // Chat: the final chunk carries `usage` (earlier chunks have `usage: null`).
    const chat = readUsage(v['usage']);
    if (chat) usage = chat;
    // Responses API: `response.completed` (also `response.incomplete` / `response.failed`) carries the response.
    const resp = v['response'];
    if (typeof v['type'] === 'string' && v['type'].startsWith('response.') && typeof resp === 'object' && resp !== null) {
      const r = resp as Record<string, unknown>;
      if (typeof r['id'] === 'string') id = r['id'];
      const u = readUsage(r['usage']);
      if (u) usage = u;
    }
  };
  return {
    push(chunk) {
      let start = 0;
      for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', start)) {
        if (!skipping) onLine((line + chunk.slice(start, i)).replace(/\r$/, ''));
        line = '';
        skipping = false;
        start = i + 1;
      }
      if (skipping) return;
      line += chunk.slice(start);
      if (line.length > MAX_LINE_CHARS) { line = ''; skipping = true; }
    },
    result() { return usage && { ...usage, ...(id ? { responseId: id } : {}) }; },
    responseId() { return id; },
  };
}

function readUsage(u: unknown): UsageReport | undefined {
  if (typeof u !== 'object' || u === null) return undefined;
  const o = u as Record<string, unknown>;
  const n = (k: string): number | undefined => (typeof o[k] === 'number' && Number.isSafeInteger(o[k]) && (o[k] as number) >= 0 ? o[k] as number : undefined);
  const input = n('prompt_tokens') ?? n('input_tokens');
  const output = n('completion_tokens') ?? n('output_tokens') ?? 0;
  const total = n('total_tokens') ?? (input === undefined ? undefined : input + output);
  if (total === undefined) return undefined;
  return { inputTokens: input ?? total - output, outputTokens: output, totalTokens: total };
}
