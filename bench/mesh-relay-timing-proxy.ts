// A pass-through HTTP proxy between the demo routers and the Functions host's mesh routes that timestamps, per frame
// id, when a router's `POST mesh/relay/frames` arrived and was answered, and which `POST mesh/relay/pending` first
// returned that id (its arrival and answer). Clock: `performance.now()` of the bench process, the same clock the agents'
// send and handler times are read from, so the phases of one message add up to its end-to-end latency.
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Span { inMs: number; outMs: number }

export interface TimingProxy {
  /** `http://127.0.0.1:<port>/api`, for KARS_LOCAL_MESH_FUNCTIONS_URL. */
  readonly url: string;
  /** Where to forward (the host's `http://127.0.0.1:<port>`); requests before it is set are answered 503. */
  setTarget(origin: string): void;
  readonly posts: Map<string, Span>;
  /** The first fetch_pending that returned the id. */
  readonly fetches: Map<string, Span>;
  close(): Promise<void>;
}

const idsOfFetch = (body: Buffer): string[] => {
  try {
    const frames = (JSON.parse(body.toString('utf8')) as { frames?: { id?: unknown }[] }).frames ?? [];
    return frames.map((f) => f.id).filter((id): id is string => typeof id === 'string');
  } catch {
    return [];
  }
};

const idOfPost = (body: Buffer): string | undefined => {
  try {
    const id = (JSON.parse(body.toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
};

export async function startTimingProxy(): Promise<TimingProxy> {
  let target: URL | undefined;
  const posts = new Map<string, Span>();
  const fetches = new Map<string, Span>();
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const inMs = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!target) {
        res.writeHead(503).end();
        return;
      }
      const body = Buffer.concat(chunks);
      const path = (req.url ?? '').split('?')[0] ?? '';
      const up = http.request({
        host: target.hostname, port: target.port, method: req.method, path: req.url, agent,
        headers: { ...req.headers, host: target.host, 'content-length': String(body.length) },
      }, (upRes) => {
        const out: Buffer[] = [];
        upRes.on('data', (c: Buffer) => out.push(c));
        upRes.on('end', () => {
          const answer = Buffer.concat(out);
          const headers = { ...upRes.headers };
          delete headers['transfer-encoding'];
          res.writeHead(upRes.statusCode ?? 502, { ...headers, 'content-length': String(answer.length) });
          res.end(answer, () => {
            const span = { inMs, outMs: performance.now() };
            if (path.endsWith('/mesh/relay/frames')) {
              const id = idOfPost(body);
              if (id !== undefined && !posts.has(id)) posts.set(id, span);
            } else if (path.endsWith('/mesh/relay/pending')) {
              for (const id of idsOfFetch(answer)) if (!fetches.has(id)) fetches.set(id, span);
            }
          });
        });
      });
      up.on('error', () => res.writeHead(502).end());
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/api`,
    setTarget: (origin) => {
      target = new URL(origin);
    },
    posts,
    fetches,
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
