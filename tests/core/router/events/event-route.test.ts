// The agent's event routes: long poll with a strict query, ack / nack by lease id; nothing else under /v1/events.
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_BATCH, MAX_EVENT_WAIT_S, MIN_EVENT_WAIT_MS, matchEventRoute } from '../../../../core/router/events/event-route';

describe('matchEventRoute', () => {
  it('leaves other paths to the model routes', () => {
    for (const url of ['/v1/chat/completions', '/v1/eventsx', '/healthz', '/v1']) expect(matchEventRoute('GET', url)).toBeUndefined();
  });

  it('parses a poll: wait in seconds (default 0: one broker round trip), max (default 10)', () => {
    expect(matchEventRoute('GET', '/v1/events')).toEqual({ ok: true, value: { kind: 'poll', template: '/v1/events', max: 10, waitMs: MIN_EVENT_WAIT_MS } });
    expect(matchEventRoute('GET', '/v1/events?wait=1')).toMatchObject({ ok: true, value: { waitMs: 1000 } });
    expect(matchEventRoute('GET', `/v1/events?wait=${MAX_EVENT_WAIT_S}&max=${MAX_EVENT_BATCH}`)).toMatchObject({ ok: true, value: { waitMs: MAX_EVENT_WAIT_S * 1000, max: MAX_EVENT_BATCH } });
  });

  it('refuses a bad query with INPUT_INVALID, never echoing it', () => {
    for (const q of [`wait=${MAX_EVENT_WAIT_S + 1}`, 'wait=-1', 'wait=1.5', 'max=0', `max=${MAX_EVENT_BATCH + 1}`, 'wait=1&wait=2', 'token=secret-value', 'wait=']) {
      const r = matchEventRoute('GET', `/v1/events?${q}`);
      expect(r, q).toMatchObject({ ok: false, code: 'INPUT_INVALID' });
      expect(JSON.stringify(r)).not.toContain('secret-value');
    }
  });

  it('parses ack and nack by lease id; refuses other verbs, methods, ids and queries', () => {
    const id = '0f8e3a52-5d0b-4c83-a5a4-9b4d1b2c3d4e';
    expect(matchEventRoute('POST', `/v1/events/${id}/ack`)).toEqual({ ok: true, value: { kind: 'ack', template: '/v1/events/{id}/ack', id } });
    expect(matchEventRoute('POST', `/v1/events/${id}/nack`)).toMatchObject({ ok: true, value: { kind: 'nack', id } });
    expect(matchEventRoute('GET', `/v1/events/${id}/ack`)).toMatchObject({ ok: false, code: 'METHOD_NOT_ALLOWED' });
    expect(matchEventRoute('POST', '/v1/events')).toMatchObject({ ok: false, code: 'METHOD_NOT_ALLOWED' });
    expect(matchEventRoute('POST', `/v1/events/${id}/ack?x=1`)).toMatchObject({ ok: false, code: 'INPUT_INVALID' });
    expect(matchEventRoute('GET', '/v1/events/ws')).toEqual({ ok: true, value: { kind: 'socket', template: '/v1/events/ws' } });
    expect(matchEventRoute('POST', '/v1/events/ws')).toMatchObject({ ok: false, code: 'METHOD_NOT_ALLOWED' });
    expect(matchEventRoute('GET', '/v1/events/ws?token=x')).toMatchObject({ ok: false, code: 'INPUT_INVALID' });
    for (const path of [`/v1/events/${id}`, `/v1/events/${id}/complete`, `/v1/events/${id}/ack/x`, '/v1/events/a%2Fb/ack', `/v1/events/${'a'.repeat(65)}/ack`, '/v1/events//ack']) {
      expect(matchEventRoute('POST', path), path).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    }
  });
});
