// LOCAL STAND-IN for the Kubernetes API the AKS driver talks to: a loopback HTTP endpoint through which the Functions
// host's local SandboxDriver applies a revision to a demo router (PUT /sandboxes/{id}/revision) and reads its process
// state and URL (GET /sandboxes/{id}). A random bearer key, handed to the host in its environment, guards it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { REVISION_ID_PATTERN } from '../../../core/rollouts/plan-rollout';
import type { RouterSupervisor } from './router-supervisor';

const MAX_BODY_BYTES = 64 * 1024;
const PATH = /^\/sandboxes\/([a-z0-9-]{1,63})(\/revision)?$/;

export interface RouterControlServer {
  url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function keyMatches(req: IncomingMessage, key: string): boolean {
  const given = Buffer.from(req.headers.authorization ?? '');
  const want = Buffer.from(`Bearer ${key}`);
  return given.length === want.length && timingSafeEqual(given, want);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** `supervisor` returns undefined until the routers are up: calls then get 503 (the driver retries). */
export async function startRouterControlServer(current: () => RouterSupervisor | undefined, key: string): Promise<RouterControlServer> {
  const server = createServer((req, res) => {
    void (async () => {
      if (!keyMatches(req, key)) return send(res, 401, { code: 'AUTH_REQUIRED' });
      const supervisor = current();
      if (!supervisor) return send(res, 503, { code: 'DEPENDENCY_UNAVAILABLE' });
      const m = PATH.exec(new URL(req.url ?? '/', 'http://local').pathname);
      if (!m || !supervisor.has(m[1]!)) return send(res, 404, { code: 'SANDBOX_NOT_FOUND' });
      const sandboxId = m[1]!;
      if (!m[2] && req.method === 'GET') return send(res, 200, supervisor.status(sandboxId));
      if (m[2] && req.method === 'PUT') {
        let revision: { id?: unknown; spec?: unknown };
        try {
          revision = (await readBody(req)) as typeof revision;
        } catch {
          return send(res, 400, { code: 'INPUT_INVALID' });
        }
        if (typeof revision?.id !== 'string' || !REVISION_ID_PATTERN.test(revision.id) || typeof revision.spec !== 'object' || revision.spec === null) {
          return send(res, 400, { code: 'INPUT_INVALID' });
        }
        const applied = await supervisor.apply(sandboxId, { id: revision.id, spec: revision.spec as Record<string, unknown> });
        return send(res, 200, applied);
      }
      return send(res, 405, { code: 'METHOD_NOT_ALLOWED' });
    })().catch(() => {
      if (!res.headersSent) send(res, 500, { code: 'INTERNAL' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
