// The one JSON body reader of the admin and rollout routes (core/http/read-json-body.ts behind
// functions/http/read-json-request.ts): content type before a byte is read (415), the cap while streaming (413, also
// without Content-Length), the strict parser (400 HTTP_BODY_MALFORMED), then the schema (400 INPUT_INVALID).
import type { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readJsonRequest } from '../../../functions/http/read-json-request';

const CAP = 1024;
const schema = z.strictObject({ name: z.string().max(20), n: z.number().int() });

/** A body streamed in `chunkBytes` pieces, counting what the reader pulled. */
function streamed(text: string, chunkBytes = 100): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkBytes));
      offset += chunkBytes;
    },
  }, { highWaterMark: 0 });
  return { body, pulled: () => Math.min(offset, bytes.length) };
}

function request(headers: Record<string, string>, body: ReadableStream<Uint8Array> | null): Pick<HttpRequest, 'headers' | 'body'> {
  return { headers: new Headers(headers), body } as Pick<HttpRequest, 'headers' | 'body'>;
}

async function refusal(req: Pick<HttpRequest, 'headers' | 'body'>): Promise<{ status: number | undefined; code: string; message: string; headers: unknown }> {
  const read = await readJsonRequest(req, schema, CAP);
  if (read.ok) throw new Error('expected a refusal');
  const body = read.response.jsonBody as { code: string; message: string };
  return { status: read.response.status, code: body.code, message: body.message, headers: read.response.headers };
}

const JSON_TYPE = { 'content-type': 'application/json' };

describe('readJsonRequest', () => {
  it('reads a valid body (charset=utf-8 allowed)', async () => {
    const read = await readJsonRequest(request({ 'content-type': 'application/json; charset=utf-8' }, streamed('{"name":"a","n":1}').body), schema, CAP);
    expect(read).toEqual({ ok: true, value: { name: 'a', n: 1 }, sizeBytes: 18 });
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', ''])('refuses content type %j with 415 before reading a byte', async (type) => {
    const s = streamed('{"name":"a","n":1}');
    const r = await refusal(request(type ? { 'content-type': type } : {}, s.body));
    expect([r.status, r.code]).toEqual([415, 'HTTP_CONTENT_TYPE_UNSUPPORTED']);
    expect(s.pulled()).toBe(0);
  });

  it('refuses a declared Content-Length above the cap with 413, unread, and closes the connection', async () => {
    const s = streamed('x'.repeat(CAP + 1));
    const r = await refusal(request({ ...JSON_TYPE, 'content-length': String(CAP + 1) }, s.body));
    expect([r.status, r.code, r.headers]).toEqual([413, 'HTTP_BODY_TOO_LARGE', expect.objectContaining({ connection: 'close' })]);
    expect(s.pulled()).toBe(0);
  });

  it('refuses a chunked body without Content-Length once it passes the cap, pulling at most one chunk more', async () => {
    const s = streamed(`{"name":"${'x'.repeat(100 * CAP)}","n":1}`, 100);
    const r = await refusal(request(JSON_TYPE, s.body));
    expect([r.status, r.code]).toEqual([413, 'HTTP_BODY_TOO_LARGE']);
    expect(s.pulled()).toBeLessThanOrEqual(CAP + 100);
  });

  it.each([
    ['truncated JSON', '{"name":'],
    ['trailing garbage', '{"name":"a","n":1} x'],
    ['an empty body', ''],
    ['a prototype-poisoning key', '{"name":"a","n":1,"__proto__":{"admin":true}}'],
    ['an escaped poisoning key', '{"name":"a","n":1,"\\u0063onstructor":{"prototype":{}}}'],
  ])('refuses %s with 400 HTTP_BODY_MALFORMED', async (_label, text) => {
    const r = await refusal(request(JSON_TYPE, streamed(text).body));
    expect([r.status, r.code]).toEqual([400, 'HTTP_BODY_MALFORMED']);
  });

  it('refuses invalid UTF-8 with 400 HTTP_BODY_MALFORMED', async () => {
    const body = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d])); c.close(); } });
    const r = await refusal(request(JSON_TYPE, body));
    expect([r.status, r.code]).toEqual([400, 'HTTP_BODY_MALFORMED']);
  });

  it('a schema failure is 400 INPUT_INVALID naming the fields, never the values', async () => {
    const canary = 'canary-9d0a';
    const r = await refusal(request(JSON_TYPE, streamed(JSON.stringify({ name: canary.repeat(10), n: 1.5, extra: canary })).body));
    expect([r.status, r.code]).toEqual([400, 'INPUT_INVALID']);
    for (const field of ['name', 'n', 'extra']) expect(r.message).toContain(field);
    expect(r.message).not.toContain(canary);
  });
});
