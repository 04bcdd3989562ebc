// The agent's inbound-event routes (core/router/events/event-route.ts) over the event relay: parse, call core, map the
// result. A poll whose agent hung up before the answer gives its events straight back (they come again), so no event
// sits leased to nobody until its ack window ends.
import type * as http from 'node:http';
import type { KarsErrorCode } from '../../core/errors';
import type { EventRelay } from '../../core/router/events/event-relay';
import type { EventRoute } from '../../core/router/events/event-route';
import { sendRouterJson } from './send-router-error';

export type Refuse = (code: KarsErrorCode, message: string, headers?: Record<string, string>) => void;

export async function serveEventRoute(
  relay: EventRelay, route: EventRoute, req: http.IncomingMessage, res: http.ServerResponse, refuse: Refuse,
): Promise<void> {
  // None of these routes takes a body: refusing one keeps an agent from streaming bytes into a poll or an ack.
  const length = req.headers['content-length'];
  if ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined) {
    return refuse('INPUT_INVALID', 'this route takes no request body', { connection: 'close' });
  }
  // Reached only without an Upgrade header (upgrades go to event-socket.ts).
  if (route.kind === 'socket') return refuse('INPUT_INVALID', 'this route takes a WebSocket upgrade');
  if (route.kind === 'poll') {
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const polled = await relay.poll({ max: route.max, waitMs: route.waitMs, abortSignal: gone.signal });
    if (!polled.ok) {
      return refuse(polled.code, polled.message, polled.code === 'ROUTER_EVENTS_IN_FLIGHT_FULL' || polled.code === 'ROUTER_EVENTS_UNAVAILABLE' ? { 'retry-after': '1' } : {});
    }
    if (gone.signal.aborted || res.destroyed) {
      for (const e of polled.value) await relay.nack(e.id);
      return;
    }
    return sendRouterJson(res, 200, { events: polled.value });
  }
  const settled = route.kind === 'ack' ? await relay.ack(route.id) : await relay.nack(route.id);
  if (!settled.ok) return refuse(settled.code, settled.message);
  res.writeHead(204, { 'cache-control': 'no-store' });
  res.end();
}
