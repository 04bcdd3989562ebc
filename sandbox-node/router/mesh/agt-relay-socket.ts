// The WebSocket half of the router bridge on the router's own listener: `ws://127.0.0.1:8443/agt/relay` (the AGT 4.x
// MeshClient appends `/ws` to its relayUrl, so both paths are served). Thin: text frames in, bridge frames out; every
// decision is in core/mesh/bridge/mesh-bridge.ts.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { MAX_AGENT_FRAME_BYTES } from '../../../core/mesh/bridge/agent-frames';
import type { MeshBridge } from '../../../core/mesh/bridge/mesh-bridge';

export const AGT_RELAY_PATHS: ReadonlySet<string> = new Set(['/agt/relay', '/agt/relay/ws']);

export interface AgtRelaySocket {
  /** Takes the upgrade when the path is the relay's; false otherwise (the caller refuses it). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): void;
}

/** A socket that has not sent an accepted `connect` by then is closed (an idle socket holds router memory). */
export const CONNECT_DEADLINE_MS = 10_000;

export function createAgtRelaySocket(bridge: MeshBridge, options: { admit?: () => boolean; connectDeadlineMs?: number } = {}): AgtRelaySocket {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_AGENT_FRAME_BYTES, perMessageDeflate: false });
  wss.on('connection', (ws: WebSocket) => {
    const conn = bridge.attach({
      send: (frame) => new Promise<void>((resolve, reject) => {
        if (ws.readyState !== ws.OPEN) return reject(new Error('socket closed'));
        ws.send(JSON.stringify(frame), (err) => (err ? reject(err) : resolve()));
      }),
      close: (code, reason) => ws.close(code, reason.slice(0, 120)),
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return void ws.send(JSON.stringify({ v: 1, type: 'error', code: 'MESH_FRAME_INVALID', message: 'text frames only' }));
      if (options.admit && !options.admit()) return void ws.send(JSON.stringify({ v: 1, type: 'error', code: 'LIMIT_RATE_EXCEEDED', message: 'rate limit exceeded' }));
      void conn.receive(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    });
    const deadline = setTimeout(() => {
      if (!conn.identified) ws.close(1008, 'MESH_CONNECT_REQUIRED');
    }, options.connectDeadlineMs ?? CONNECT_DEADLINE_MS);
    deadline.unref();
    ws.on('close', () => {
      clearTimeout(deadline);
      conn.closed();
    });
    ws.on('error', () => conn.closed());
  });
  return {
    handleUpgrade(req, socket, head) {
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (!AGT_RELAY_PATHS.has(path)) return false;
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      return true;
    },
    close() {
      bridge.closeAll();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
