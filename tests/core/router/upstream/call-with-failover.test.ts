// Failover and retry bounds for model calls (T3-D): examples, and fast-check properties over random outcome
// sequences (fast-check prints the seed on failure).
import fc from 'fast-check';
import { assertProperty } from '../../../support/property';
import { describe, expect, it } from 'vitest';
import { callWithFailover, type AttemptOutcome } from '../../../../core/router/upstream/call-with-failover';
import { createDeploymentHealth } from '../../../../core/router/upstream/deployment-health';
import { isIdempotentCall, parseRetryAfterMs, type UpstreamCall } from '../../../../core/router/upstream/retry-policy';
import { settableClock } from '../../edge/edge-fixture';

const resp = (status: number, headers: Record<string, string> = {}): AttemptOutcome => ({ kind: 'response', status, header: (n) => headers[n] });

function harness() {
  const clock = settableClock(0);
  const sleeps: number[] = [];
  const deps = { health: createDeploymentHealth(clock), clock, sleep: async (ms: number) => { sleeps.push(ms); clock.advance(ms); } };
  return { clock, sleeps, deps };
}

async function run(call: UpstreamCall, deployments: string[], outcomes: AttemptOutcome[], h = harness()) {
  const seen: string[] = [];
  const r = await callWithFailover(call, deployments, async (d) => {
    seen.push(d);
    const o = outcomes[seen.length - 1] ?? resp(200);
    return { outcome: o, value: o };
  }, h.deps);
  return { r, seen, sleeps: h.sleeps };
}

const chat: UpstreamCall = { method: 'POST', operation: 'chat' };
const embeddings: UpstreamCall = { method: 'POST', operation: 'embeddings' };

describe('retry policy', () => {
  it('idempotent: GET, HEAD, embeddings; never chat or responses', () => {
    expect(isIdempotentCall({ method: 'GET', operation: 'other' })).toBe(true);
    expect(isIdempotentCall({ method: 'head', operation: 'other' })).toBe(true);
    expect(isIdempotentCall(embeddings)).toBe(true);
    expect(isIdempotentCall(chat)).toBe(false);
    expect(isIdempotentCall({ method: 'POST', operation: 'responses' })).toBe(false);
  });

  it('parses retry-after-ms first, then retry-after seconds or HTTP-date', () => {
    const h = (m: Record<string, string>) => (n: string) => m[n];
    expect(parseRetryAfterMs(h({ 'retry-after-ms': '1500', 'retry-after': '9' }), 0)).toBe(1500);
    expect(parseRetryAfterMs(h({ 'retry-after': '2' }), 0)).toBe(2000);
    expect(parseRetryAfterMs(h({ 'retry-after': new Date(10_000).toUTCString() }), 4000)).toBe(6000);
    expect(parseRetryAfterMs(h({ 'retry-after': 'soon' }), 0)).toBeUndefined();
    expect(parseRetryAfterMs(h({}), 0)).toBeUndefined();
  });
});

describe('callWithFailover examples', () => {
  it('chat is never retried on its deployment; it fails over to the next on 429/5xx', async () => {
    expect((await run(chat, ['a'], [resp(503)])).seen).toEqual(['a']);
    const two = await run(chat, ['a', 'b'], [resp(429, { 'retry-after-ms': '100' }), resp(200)]);
    expect(two.seen).toEqual(['a', 'b']);
    expect(two.sleeps).toEqual([]);
    expect(two.r).toMatchObject({ kind: 'done', deployment: 'b', attempts: 2 });
  });

  it('chat after an after-send error stops (it may have been processed); a connect error fails over', async () => {
    expect((await run(chat, ['a', 'b'], [{ kind: 'error' }])).seen).toEqual(['a']);
    expect((await run(chat, ['a', 'b'], [{ kind: 'connect-error' }, resp(200)])).seen).toEqual(['a', 'b']);
  });

  it('embeddings retry on one deployment with 250/750 ms backoff, honouring a longer retry-after-ms', async () => {
    expect(await run(embeddings, ['a'], [resp(503), resp(502), resp(200)])).toMatchObject({ seen: ['a', 'a', 'a'], sleeps: [250, 750] });
    expect((await run(embeddings, ['a'], [resp(429, { 'retry-after-ms': '2000' }), resp(200)])).sleeps).toEqual([2000]);
    // Longer than the cap: no wait, the 429 goes back to the agent.
    const long = await run(embeddings, ['a'], [resp(429, { 'retry-after': '60' })]);
    expect(long.seen).toEqual(['a']);
    expect(long.r).toMatchObject({ kind: 'done', attempts: 1 });
  });

  it('a deployment with 3 failures in 60 s is skipped; when all are, the call is shed as unavailable', async () => {
    const h = harness();
    for (let i = 0; i < 3; i += 1) await run(chat, ['a'], [resp(500)], h);
    const next = await run(embeddings, ['a', 'b'], [resp(200)], h);
    expect(next.seen).toEqual(['b']);
    await run(embeddings, ['b'], [resp(500), resp(500), resp(500)], h);
    const shed = await run(chat, ['a', 'b'], [], h);
    expect(shed.seen).toEqual([]);
    expect(shed.r).toMatchObject({ kind: 'unavailable', attempts: 0 });
  });
});

const outcome: fc.Arbitrary<AttemptOutcome> = fc.oneof(
  fc.constant<AttemptOutcome>({ kind: 'connect-error' }),
  fc.constant<AttemptOutcome>({ kind: 'error' }),
  fc.record({
    status: fc.constantFrom(200, 201, 400, 404, 429, 500, 502, 503, 504),
    ra: fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }),
  }).map(({ status, ra }) => resp(status, ra === undefined ? {} : { 'retry-after-ms': String(ra) })),
);
const call: fc.Arbitrary<UpstreamCall> = fc.record({
  method: fc.constantFrom('GET', 'HEAD', 'POST'), operation: fc.constantFrom('chat', 'responses', 'embeddings', 'other') as fc.Arbitrary<UpstreamCall['operation']>,
});

describe('callWithFailover properties', () => {
  it('≤ 3 attempts; non-idempotent calls never repeat a deployment nor go on after an after-send error; waits honour Retry-After within the cap', async () => {
    await assertProperty(fc.asyncProperty(call, fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 4 }), fc.array(outcome, { maxLength: 10 }), async (c, list, outs) => {
      const deployments = [...new Set(list)];
      const { r, seen, sleeps } = await run(c, deployments, outs);
      expect(seen.length).toBeLessThanOrEqual(3);
      if (!isIdempotentCall(c)) {
        expect(new Set(seen).size).toBe(seen.length);
        expect(sleeps).toEqual([]);
        const afterSend = outs.slice(0, seen.length).findIndex((o) => o.kind === 'error');
        if (afterSend !== -1) expect(seen.length).toBe(afterSend + 1);
      }
      for (const s of sleeps) expect(s).toBeLessThanOrEqual(10_000);
      // Every wait is at least the previous response's Retry-After.
      let k = 0;
      for (let i = 1; i < seen.length; i += 1) {
        if (!seen.slice(0, i).includes(seen[i]!)) continue;
        const prev = outs[i - 1]!;
        const ra = prev.kind === 'response' ? Number(prev.header('retry-after-ms') ?? 0) : 0;
        expect(sleeps[k]!).toBeGreaterThanOrEqual(ra);
        k += 1;
      }
      expect(sleeps).toHaveLength(k);
      if (r.kind === 'done') expect(r.attempts).toBe(seen.length);
    }), { numRuns: 400 });
  });
});

describe('callWithFailover aborts', () => {
  it('an attempt that throws (abort) rejects the call and gives a half-open probe slot back', async () => {
    const h = harness();
    for (let i = 0; i < 3; i += 1) await run(chat, ['a'], [resp(500)], h);
    h.clock.advance(30_000); // half-open: one probe allowed
    const p = callWithFailover(chat, ['a'], async () => { throw new Error('aborted'); }, h.deps);
    await expect(p).rejects.toThrow('aborted');
    expect(h.deps.health.admit('a')).toMatchObject({ allowed: true, probe: true });
  });

  it('an abort during backoff rejects the call; the aborted retry is not counted', async () => {
    const h = harness();
    const deps = { ...h.deps, sleep: async () => { throw new Error('aborted'); } };
    const p = callWithFailover(embeddings, ['a'], async () => ({ outcome: resp(503), value: 0 }), deps);
    await expect(p).rejects.toThrow('aborted');
    expect(h.deps.health.stateOf('a')).toMatchObject({ phase: 'closed', failures: [0] });
  });
});
