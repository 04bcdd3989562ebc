// RR3: the usage a call settles on is found whatever way the response is cut into chunks, and is absent (so the whole
// reservation is charged) when the upstream reported none.
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createUsageScanner } from '../../../../core/router/token-budget/usage-scanner';
import { reserveForCall } from '../../../../core/router/token-budget/token-reservation';
import { assertProperty } from '../../../support/property';

const CHAT_SSE = 'data: {"id":"c1","choices":[{"delta":{"content":"hé"}}],"usage":null}\n\n' +
  'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}\n\ndata: [DONE]\n\n';
const RESPONSES_SSE = 'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_1","usage":null}}\n\n' +
  'event: response.completed\r\ndata: {"type":"response.completed","response":{"id":"resp_1","usage":{"input_tokens":5,"output_tokens":4,"total_tokens":9}}}\r\n\r\n';
const JSON_BODY = '{"id":"e1","data":[],"usage":{"prompt_tokens":12,"total_tokens":12}}';

function scan(text: string, stream: boolean, cuts: number[]) {
  const s = createUsageScanner(stream);
  let at = 0;
  for (const c of [...new Set(cuts.map((x) => x % (text.length + 1)))].sort((a, b) => a - b)) { s.push(text.slice(at, c)); at = c; }
  s.push(text.slice(at));
  return s.result();
}

describe('usage scanner', () => {
  it('reads chat, responses and JSON usage at every split', () => {
    assertProperty(fc.property(fc.array(fc.nat(), { maxLength: 8 }), (cuts) => {
      expect(scan(CHAT_SSE, true, cuts)).toEqual({ inputTokens: 3, outputTokens: 4, totalTokens: 7, responseId: 'c1' });
      expect(scan(RESPONSES_SSE, true, cuts)).toEqual({ inputTokens: 5, outputTokens: 4, totalTokens: 9, responseId: 'resp_1' });
      expect(scan(JSON_BODY, false, cuts)).toEqual({ inputTokens: 12, outputTokens: 0, totalTokens: 12, responseId: 'e1' });
    }));
  });

  it('reports none for a stream cut before its usage, or a body without one', () => {
    expect(scan(CHAT_SSE.slice(0, CHAT_SSE.indexOf('\n\n') + 2), true, [])).toBeUndefined();
    expect(scan('{"id":"x","choices":[]}', false, [])).toBeUndefined();
    expect(scan('{"usage":{"total_tokens":-1}}', false, [])).toBeUndefined();
  });
});

describe('reservation', () => {
  const s = { defaultMaxOutputTokens: 1000, maxTokensPerRequest: 5000 };
  it('is the body bytes plus the output maximum, or the default when unset; embeddings generate nothing', () => {
    expect(reserveForCall('chat', { max_tokens: 10 }, 100, s)).toEqual({ ok: true, value: { tokens: 110, stream: false } });
    expect(reserveForCall('chat', {}, 100, s)).toEqual({ ok: true, value: { tokens: 1100, stream: false } });
    expect(reserveForCall('responses', { max_output_tokens: 7 }, 10, s)).toMatchObject({ ok: true, value: { tokens: 17 } });
    expect(reserveForCall('embeddings', { max_tokens: 99 }, 10, s)).toMatchObject({ ok: true, value: { tokens: 10 } });
  });
  it('asks a streamed chat for its usage, keeping other stream options', () => {
    const r = reserveForCall('chat', { stream: true, stream_options: { x: 1 } }, 10, s);
    expect(r).toMatchObject({ ok: true, value: { stream: true, body: { stream: true, stream_options: { x: 1, include_usage: true } } } });
  });
  it('refuses a call over the per-request budget and a malformed maximum', () => {
    expect(reserveForCall('chat', { max_tokens: 4999 }, 2, s)).toMatchObject({ ok: false, code: 'ROUTER_TOKEN_QUOTA_SPENT' });
    expect(reserveForCall('chat', { max_tokens: -1 }, 2, s)).toMatchObject({ ok: false, code: 'INPUT_INVALID' });
  });
});
