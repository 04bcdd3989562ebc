// T1-T "Tampered request body" — mitigation: schema validation + size cap + content-type allowlist, on top of the MAC
// Defends: signature, content-type, size-cap, schema, proto-poisoning
// over the exact raw bytes. Each attack runs with its mitigation on (refused) and off through `_disable` (the hostile
// body then reaches the sandbox queue). The size cap is attacked over HTTP the ways a sender can shape a body: with a
// Content-Length, chunked without one, dripped slowly, and with a Content-Length that lies.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BODY_BYTES } from '../../core/edge/edge-types';
import { redact } from '../../core/secrets/redacted';
import { githubFixtures, standardFixture } from '../core/webhook/fixtures';
import { createEdgeFixture, edgeRequest, nowSec, registerHook, SECRETS, signGithub, signStandard } from '../core/edge/edge-fixture';
import { postHook, startEdgeStack, type EdgeStack } from '../functions/hooks/edge-stack';

describe('T1-T tampering in transit: the MAC covers the exact bytes', () => {
  it('a body changed after signing (re-serialised, one field edited) is 401; OFF (signature) the edited body is delivered', async () => {
    for (const [disable, status] of [[[], 401], [['signature'], 202]] as const) {
      const f = createEdgeFixture({ _disable: [...disable] });
      const hook = await registerHook(f, 'github');
      const original = JSON.stringify(githubFixtures.push);
      const headers = await signGithub(SECRETS.github, 'd-tamper', 'push', original);
      const tampered = JSON.stringify({ ...githubFixtures.push, ref: 'refs/heads/evil' });
      const reformatted = JSON.stringify(githubFixtures.push, null, 2);
      expect((await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: hook.hookId, body: tampered, headers }))).status).toBe(status);
      expect((await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: hook.hookId, body: reformatted, headers: { ...headers, 'x-github-delivery': 'd-2' } }))).status).toBe(status);
      if (status === 202) expect(f.queue.deliveries.map((d) => (d.payload as { ref: string }).ref)).toContain('refs/heads/evil');
      else expect(f.queue.deliveries).toHaveLength(0);
    }
  });
});

describe('T1-T hostile but validly signed bodies: the zod schema per channel and event', () => {
  const hostile = [
    ['wrong types and bounds', { ...githubFixtures.push, before: 42, commits: 'x', repository: { id: -1, full_name: '../../etc/passwd' } }, 'INPUT_INVALID', ['before', 'commits', 'repository.id', 'repository.full_name']],
    // Refused by the strict parser itself (its own code), before the schema could refuse the missing fields.
    ['prototype poisoning', JSON.parse(`{"ref":"refs/heads/main","__proto__":{"isAdmin":true}}`) as object, 'HTTP_BODY_MALFORMED', []],
    ['missing required fields', { ref: 'refs/heads/main' }, 'INPUT_INVALID', ['before', 'after', 'repository', 'pusher', 'sender', 'commits']],
  ] as const;

  it.each(hostile)('%s: ON 400 naming the failing paths', async (_name, payload, code, paths) => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'github');
    const raw = _name === 'prototype poisoning' ? `{"ref":"refs/heads/main","__proto__":{"isAdmin":true}}` : JSON.stringify(payload);
    const out = await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: hook.hookId, body: raw, headers: await signGithub(SECRETS.github, 'd-h', 'push', raw) }));
    expect(out).toMatchObject({ status: 400, code });
    for (const p of paths) expect((out as { message: string }).message).toContain(p);
    expect(f.queue.deliveries).toHaveLength(0);
  });

  it('OFF (schema): the same hostile bodies are delivered to the sandbox as sent, __proto__ key included', async () => {
    const f = createEdgeFixture({ _disable: ['schema'] });
    const hook = await registerHook(f, 'github');
    for (const [i, [name, payload]] of hostile.entries()) {
      const raw = name === 'prototype poisoning' ? `{"ref":"refs/heads/main","__proto__":{"isAdmin":true}}` : JSON.stringify(payload);
      const out = await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: hook.hookId, body: raw, headers: await signGithub(SECRETS.github, `d-off-${i}`, 'push', raw) }));
      expect(out.status, name).toBe(202);
    }
    expect(f.queue.deliveries).toHaveLength(3);
    expect((f.queue.deliveries[0]!.payload as { repository: { full_name: string } }).repository.full_name).toBe('../../etc/passwd');
  });
});

// The hostile-body cases above fail the schema whatever their keys. Here the poisoning key sits where the schema allows
// any key — Standard Webhooks' `data` is the event's own object (a record) — so the strict parser's poisoning check
// (core/webhook/parse-json-body.ts) is the only thing between the payload and the sandbox.
describe('T1-T prototype poisoning in an open schema position: only the poisoning check refuses it', () => {
  const withData = (data: string): string => JSON.stringify({ ...standardFixture, data: { id: '1' } }).replace('{"id":"1"}', data);
  const poisoned = [
    ['constructor.prototype', withData('{"id":"1","constructor":{"prototype":{"polluted":"yes"}}}')],
    ['__proto__', withData('{"id":"1","__proto__":{"polluted":"yes"}}')],
    ['escaped __proto__', withData('{"id":"1","\\u005f_proto__":{"polluted":"yes"}}')],
  ] as const;

  /** What a sandbox doing a naive recursive merge of the payload (a common pollution sink) would suffer, in a fresh realm. */
  function pollutesOnMerge(json: string): boolean {
    return runInNewContext(`(() => {
      const merge = (t, s) => {
        for (const k of Object.keys(s)) {
          if (typeof s[k] === 'object' && s[k] !== null) {
            if (typeof t[k] !== 'object' && typeof t[k] !== 'function') t[k] = {};
            merge(t[k], s[k]);
          } else t[k] = s[k];
        }
        return t;
      };
      merge({}, JSON.parse(json));
      return ({}).polluted === 'yes';
    })()`, { json }) as boolean;
  }

  it.each(poisoned)('%s: ON 400 HTTP_BODY_MALFORMED (the strict parser, before the schema); nothing delivered', async (_name, raw) => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    const out = await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body: raw, headers: signStandard(SECRETS.standard, 'msg_p', nowSec(f.clock), raw) }));
    expect(out).toMatchObject({ status: 400, code: 'HTTP_BODY_MALFORMED' });
    expect(f.queue.deliveries).toHaveLength(0);
  });

  it('OFF (proto-poisoning), schema still on: all are accepted, and the constructor.prototype payload pollutes a merging sandbox', async () => {
    const f = createEdgeFixture({ _disable: ['proto-poisoning'] });
    const hook = await registerHook(f, 'standard');
    for (const [i, [name, raw]] of poisoned.entries()) {
      const out = await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body: raw, headers: signStandard(SECRETS.standard, `msg_p${i}`, nowSec(f.clock), raw) }));
      expect(out.status, name).toBe(202);
    }
    expect(f.queue.deliveries).toHaveLength(poisoned.length);
    const delivered = JSON.stringify((f.queue.deliveries[0]!.payload as { data: unknown }).data);
    expect(delivered).toContain('"constructor":{"prototype":{"polluted":"yes"}}');
    expect(pollutesOnMerge(delivered)).toBe(true);
    // The probe itself: the same merge of a clean payload pollutes nothing.
    expect(pollutesOnMerge(JSON.stringify(standardFixture.data))).toBe(false);
  });
});

describe('T1-T content-type allowlist', () => {
  it('a signed text/plain body (a browser can send it cross-origin without preflight) is 415; OFF it is delivered', async () => {
    for (const [disable, status] of [[[], 415], [['content-type'], 202]] as const) {
      const f = createEdgeFixture({ _disable: [...disable] });
      const hook = await registerHook(f, 'standard');
      const body = JSON.stringify(standardFixture);
      const headers = { ...signStandard(SECRETS.standard, 'msg_ct', nowSec(f.clock), body), 'content-type': 'text/plain' };
      const req = edgeRequest({ channel: 'standard', hookId: hook.hookId, body, headers });
      expect((await f.pipeline.handle(req)).status).toBe(status);
      // Refused before a single body byte was pulled.
      if (status === 415) expect(req.pulledBytes()).toBe(0);
      expect(f.queue.deliveries).toHaveLength(status === 202 ? 1 : 0);
    }
  });

  it('refuses charsets other than UTF-8 and extra parameters', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    for (const ct of ['application/json; charset=utf-16', 'application/json; boundary=x', 'application/x-www-form-urlencoded', 'application/jsonp']) {
      expect((await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body: '{}', headers: { 'content-type': ct } }))).status, ct).toBe(415);
    }
  });
});

describe('T1-T size cap counts the bytes, not the declared length', () => {
  it('a Content-Length that claims 100 bytes over a 300 KiB stream is 413 after at most the cap + one chunk; OFF it is delivered', async () => {
    for (const [disable, status] of [[[], 413], [['size-cap'], 202]] as const) {
      const f = createEdgeFixture({ _disable: [...disable] });
      const hook = await registerHook(f, 'standard');
      const body = JSON.stringify({ ...standardFixture, data: { id: '1', blob: 'A'.repeat(300 * 1024) } });
      const chunkBytes = 16 * 1024;
      const req = edgeRequest({
        channel: 'standard', hookId: hook.hookId, body, chunkBytes,
        headers: { ...signStandard(SECRETS.standard, 'msg_lie', nowSec(f.clock), body), 'content-length': '100' },
      });
      const out = await f.pipeline.handle(req);
      expect(out.status).toBe(status);
      if (status === 413) expect(req.pulledBytes()).toBeLessThanOrEqual(DEFAULT_MAX_BODY_BYTES + chunkBytes);
      expect(f.queue.deliveries).toHaveLength(status === 202 ? 1 : 0);
    }
  });
});

describe('T1-T size cap over HTTP (real host, Cosmos, Service Bus)', () => {
  let on: EdgeStack;
  let off: EdgeStack;
  beforeAll(async () => {
    [on, off] = await Promise.all([startEdgeStack(), startEdgeStack({ pipelineOptions: { _disable: ['size-cap'] } })]);
  });
  afterAll(async () => {
    await Promise.all([on?.close(), off?.close()]);
  });

  async function oversized(stack: EdgeStack, sandboxId: string) {
    const hook = await stack.registry.create({ tenantId: 'tenant-a', sandboxId, channel: 'standard', allowedEventTypes: ['contact.created'], secret: redact(SECRETS.standard) });
    // 300 KiB, above the 256 KiB default cap, validly signed and schema-valid.
    const body = JSON.stringify({ ...standardFixture, data: { id: '1', blob: 'A'.repeat(300 * 1024) } });
    const r = await postHook(stack, 'standard', hook.hookId, body, signStandard(SECRETS.standard, 'msg_big', Math.floor(Date.now() / 1000), body));
    return { status: r.status, json: (await r.json()) as Record<string, unknown>, delivered: await stack.drain(sandboxId) };
  }

  it('ON: 413 HTTP_BODY_TOO_LARGE, receipted, nothing delivered', async () => {
    const r = await oversized(on, 'sandbox-big-on');
    expect(r.status).toBe(413);
    expect(r.json).toMatchObject({ code: 'HTTP_BODY_TOO_LARGE' });
    expect(r.delivered).toEqual([]);
    expect((await on.readReceipts()).map((x) => x.code)).toEqual(['HTTP_BODY_TOO_LARGE']);
  });

  it('OFF: the oversized body is buffered, accepted and delivered to the sandbox', async () => {
    const r = await oversized(off, 'sandbox-big-off');
    expect(r.status).toBe(202);
    expect(r.delivered).toHaveLength(1);
  });

  // A body over the cap in 32 KiB chunks without Content-Length (Transfer-Encoding: chunked), `gapMs` apart. Writing
  // stops as soon as an answer arrives; `sentWhenAnswered` is how much the client had written by then.
  async function chunked(stack: EdgeStack, sandboxId: string, totalBytes: number, gapMs: number) {
    const hook = await stack.registry.create({ tenantId: 'tenant-a', sandboxId, channel: 'standard', allowedEventTypes: ['contact.created'], secret: redact(SECRETS.standard) });
    const skeleton = JSON.stringify({ ...standardFixture, data: { id: '1', blob: '' } });
    const bytes = Buffer.from(skeleton.replace('"blob":""', `"blob":"${'A'.repeat(totalBytes - skeleton.length)}"`));
    const headers = { 'content-type': 'application/json', ...signStandard(SECRETS.standard, `msg_${sandboxId}`, Math.floor(Date.now() / 1000), bytes.toString()) };
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 32 * 1024) chunks.push(bytes.subarray(i, i + 32 * 1024));
    let sent = 0;
    let sentWhenAnswered: number | undefined;
    const answer = new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      const req = httpRequest(`${stack.url}/api/hooks/standard/${hook.hookId}`, { method: 'POST', headers }, (res) => {
        sentWhenAnswered = sent;
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(parts).toString()) as Record<string, unknown> });
        });
        res.on('error', reject);
      });
      // After an early answer the host closes the connection; a write racing that is expected.
      req.on('error', (e) => { if (sentWhenAnswered === undefined) reject(e); });
      void (async () => {
        for (const c of chunks) {
          if (sentWhenAnswered !== undefined || req.destroyed) return;
          await new Promise<void>((done) => req.write(c, () => done()));
          sent += c.length;
          if (gapMs > 0) await sleep(gapMs);
        }
        if (sentWhenAnswered === undefined) req.end();
      })();
    });
    const r = await answer;
    return { ...r, sentWhenAnswered: sentWhenAnswered!, total: bytes.length, delivered: await stack.drain(sandboxId) };
  }

  it('chunked, no Content-Length, 300 KiB: ON 413 HTTP_BODY_TOO_LARGE and nothing delivered; OFF delivered', async () => {
    const r = await chunked(on, 'sandbox-chunked-on', 300 * 1024, 0);
    expect(r.status).toBe(413);
    expect(r.json).toMatchObject({ code: 'HTTP_BODY_TOO_LARGE' });
    expect(r.delivered).toEqual([]);
    const o = await chunked(off, 'sandbox-chunked-off', 300 * 1024, 0);
    expect(o.status).toBe(202);
    expect(o.delivered).toHaveLength(1);
  });

  it("slow drip (896 KiB, 32 KiB every 50 ms; below the queue's 1 MiB message limit): ON the 413 comes while the sender is still sending; OFF the edge waits for every byte", async () => {
    const r = await chunked(on, 'sandbox-drip-on', 896 * 1024, 50);
    expect(r.status).toBe(413);
    // Refused mid-stream: the edge stopped reading at the cap instead of buffering the body first.
    expect(r.sentWhenAnswered).toBeLessThan(r.total);
    expect(r.delivered).toEqual([]);
    const o = await chunked(off, 'sandbox-drip-off', 896 * 1024, 50);
    expect(o.status).toBe(202);
    expect(o.sentWhenAnswered).toBe(o.total);
    expect(o.delivered).toHaveLength(1);
  }, 30_000);

  // A declared Content-Length above the cap with (so far) a few body bytes: the edge answers from the header alone.
  async function declaredOnly(stack: EdgeStack, sandboxId: string): Promise<number | undefined> {
    const hook = await stack.registry.create({ tenantId: 'tenant-a', sandboxId, channel: 'standard', allowedEventTypes: ['contact.created'], secret: redact(SECRETS.standard) });
    const { hostname, port } = new URL(stack.url);
    const socket = connect(Number(port), hostname);
    const head = [`POST /api/hooks/standard/${hook.hookId} HTTP/1.1`, `host: ${hostname}:${port}`, 'content-type: application/json',
      `content-length: ${10 * 1024 * 1024}`, '', '{"type":'].join('\r\n');
    socket.write(head);
    const status = await Promise.race([
      new Promise<number>((resolve) => socket.once('data', (d: Buffer) => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(d.toString())?.[1])))),
      sleep(1500).then(() => undefined),
    ]);
    socket.destroy();
    return status;
  }

  it('Content-Length of 10 MiB with 8 bytes sent: ON 413 at once from the header; OFF the edge sits waiting for the body', async () => {
    expect(await declaredOnly(on, 'sandbox-declared-on')).toBe(413);
    expect(await declaredOnly(off, 'sandbox-declared-off')).toBeUndefined();
  });
});
