// The agent's inbound-event routes on the router listener, from method and URL alone: `GET /v1/events?wait=&max=`
// (long poll), `POST /v1/events/{id}/ack` and `POST /v1/events/{id}/nack`, and `GET /v1/events/ws` (WebSocket upgrade). The query is checked by one strict schema;
// anything else under /v1/events is refused here with a message free of request data.
import { z } from 'zod';
import { fail, ok, type Result } from '../../errors';

/** Longest long poll (s): well inside the router's request timeout and a Service Bus receive. */
export const MAX_EVENT_WAIT_S = 30;
/** Most events one poll hands out (further bounded by the free leases). */
export const MAX_EVENT_BATCH = 32;
const DEFAULT_EVENT_BATCH = 10;
/** `wait=0` still gives the broker one round trip to hand over what it holds (a zero receive window returns nothing). */
export const MIN_EVENT_WAIT_MS = 250;

export type EventRoute =
  | { readonly kind: 'poll'; readonly template: '/v1/events'; readonly max: number; readonly waitMs: number }
  | { readonly kind: 'ack' | 'nack'; readonly template: '/v1/events/{id}/ack' | '/v1/events/{id}/nack'; readonly id: string }
  | { readonly kind: 'socket'; readonly template: '/v1/events/ws' };

const count = (min: number, max: number) => z.string().regex(/^\d{1,4}$/).transform(Number).pipe(z.number().int().min(min).max(max));
const pollQuery = z.strictObject({
  /** Seconds to wait for the first event; 0 answers within MIN_EVENT_WAIT_MS with what the broker holds. */
  wait: count(0, MAX_EVENT_WAIT_S).optional(),
  max: count(1, MAX_EVENT_BATCH).optional(),
});

const LEASE_ID = /^[A-Za-z0-9-]{1,64}$/;

/** @returns undefined when the path is not under /v1/events; else the route or NOT_FOUND / METHOD_NOT_ALLOWED / INPUT_INVALID */
export function matchEventRoute(method: string, rawUrl: string): Result<EventRoute> | undefined {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? '' : rawUrl.slice(q + 1);
  if (path !== '/v1/events' && !path.startsWith('/v1/events/')) return undefined;
  const seg = path.split('/').slice(3);
  if (seg.length === 0) {
    if (method !== 'GET') return fail('METHOD_NOT_ALLOWED', 'use GET');
    const params = new URLSearchParams(query);
    const keys = [...params.keys()];
    if (new Set(keys).size !== keys.length) return fail('INPUT_INVALID', 'each query parameter at most once');
    const parsed = pollQuery.safeParse(Object.fromEntries(params));
    if (!parsed.success) return fail('INPUT_INVALID', `query parameters: wait (0..${MAX_EVENT_WAIT_S} s) and max (1..${MAX_EVENT_BATCH}) only`);
    return ok({ kind: 'poll', template: '/v1/events', max: parsed.data.max ?? DEFAULT_EVENT_BATCH, waitMs: Math.max(MIN_EVENT_WAIT_MS, (parsed.data.wait ?? 0) * 1000) });
  }
  if (seg.length === 1 && seg[0] === 'ws') {
    if (method !== 'GET') return fail('METHOD_NOT_ALLOWED', 'use GET');
    if (query) return fail('INPUT_INVALID', 'no query parameters on this route');
    return ok({ kind: 'socket', template: '/v1/events/ws' });
  }
  const [id, verb, ...rest] = seg;
  if (rest.length > 0 || id === undefined || !LEASE_ID.test(id) || (verb !== 'ack' && verb !== 'nack')) return fail('NOT_FOUND', 'no such route');
  if (method !== 'POST') return fail('METHOD_NOT_ALLOWED', 'use POST');
  if (query) return fail('INPUT_INVALID', 'no query parameters on this route');
  return ok({ kind: verb, template: verb === 'ack' ? '/v1/events/{id}/ack' : '/v1/events/{id}/nack', id });
}
