// The WebSocket form of the agent's inbound events (`GET /v1/events/ws`): the router pushes each leased event as
// `{ type: "event", id, deliveryCount, ackByMs, event }` and the agent answers `{ type: "ack" | "nack", id }`, each
// answered with `{ type: "acked" | "nacked", id }` or `{ type: "error", id, code, message }`. The same relay as the long
// poll (one consumer at a time, bounded in flight, nothing completed before the ack); agent frames are capped at
// 1 KiB and checked by one strict schema. Leases handed out on a socket that closes stay ackable over HTTP until
// their deadline, then go back to the broker.
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { EventRelay } from '../../core/router/events/event-relay';

const agentFrame = z.strictObject({ type: z.enum(['ack', 'nack']), id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/) });
/** How long one poll of the socket loop waits (s): the loop polls again at once afterwards. */
const SOCKET_POLL_WAIT_MS = 20_000;
const RETRY_MS = 1000;

export interface EventSocketHandler {
  /** Completes the upgrade and serves the socket until it closes. */
  handle(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every socket (router drain). */
  closeAll(): void;
}

export function createEventSocketHandler(relay: EventRelay): EventSocketHandler {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024, perMessageDeflate: false });
  const sockets = new Set<WebSocket>();

  const serve = (ws: WebSocket): void => {
    sockets.add(ws);
    const closed = new AbortController();
    let wake: (() => void) | undefined;
    const pause = (ms: number): Promise<void> => new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    ws.on('close', () => {
      sockets.delete(ws);
      closed.abort();
      wake?.();
    });
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => {
      void (async () => {
        let frame: z.infer<typeof agentFrame>;
        try {
          frame = agentFrame.parse(JSON.parse(isBinary ? '' : data.toString()));
        } catch {
          ws.send(JSON.stringify({ type: 'error', code: 'INPUT_INVALID', message: 'frames are {"type":"ack"|"nack","id":"<lease id>"}' }));
          return;
        }
        const settled = frame.type === 'ack' ? await relay.ack(frame.id) : await relay.nack(frame.id);
        if (ws.readyState !== ws.OPEN) return;
        ws.send(JSON.stringify(settled.ok
          ? { type: frame.type === 'ack' ? 'acked' : 'nacked', id: frame.id }
          : { type: 'error', id: frame.id, code: settled.code, message: settled.message }));
        wake?.(); // a lease is free again: a loop waiting for room polls now
      })();
    });
    void (async () => {
      while (!closed.signal.aborted) {
        const polled = await relay.poll({ max: 10, waitMs: SOCKET_POLL_WAIT_MS, abortSignal: closed.signal });
        if (closed.signal.aborted || ws.readyState !== ws.OPEN) {
          if (polled.ok) for (const e of polled.value) await relay.nack(e.id);
          return;
        }
        if (!polled.ok) {
          if (polled.code === 'ROUTER_DRAINING') return ws.close(1001, 'router shutting down');
          if (polled.code === 'ROUTER_EVENTS_POLL_BUSY') return ws.close(1008, polled.code);
          await pause(RETRY_MS); // in flight full (woken by an ack) or the broker unreachable
          continue;
        }
        for (const e of polled.value) ws.send(JSON.stringify({ type: 'event', ...e }));
      }
    })();
  };

  return {
    handle(req, socket, head) {
      wss.handleUpgrade(req, socket, head, serve);
    },
    closeAll() {
      for (const ws of sockets) ws.close(1001, 'router shutting down');
    },
  };
}
