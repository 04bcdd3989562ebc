// The local Functions host: serves the route table on /api/... with real HttpRequest / InvocationContext objects,
// because Azure Functions Core Tools cannot be installed offline. Like the Azure host at an instance's graceful
// shutdown, `close()` lets running invocations settle and then runs the app's terminate hooks.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { InvocationContext, trigger } from '@azure/functions';
import type { RouteDef } from '../../../functions/route-def';
import type { Logger } from '../../../core/ports/logger.port';
import type { AppHooks } from '../../../functions/app-hooks';
import { compileRoute, type CompiledRoute } from './match-route';
import { toHttpRequest } from './to-http-request';
import { writeResponse } from './write-response';
import { isAuthorized, type FunctionKeys } from './function-keys';

export interface LocalHostOptions {
  routes: readonly RouteDef[];
  keys: FunctionKeys;
  logger: Logger;
  host?: string;
  /** 0 picks a free port. Default 7071. */
  port?: number;
  routePrefix?: string;
  /** The app's terminate hooks (functions/app-hooks.ts `appHooks` for the Function app), run by `close()`. */
  hooks?: AppHooks;
  /** How long `close()` waits for running invocations before the terminate hooks run. Default 5000. */
  shutdownGraceMs?: number;
}

export interface LocalHost {
  url: string;
  port: number;
  /**
   * Stops listening and drops the connections, waits (at most `shutdownGraceMs`) for the invocations still running,
   * then runs the terminate hooks, as the Azure host does before it stops an instance.
   */
  close(): Promise<void>;
}

const DEFAULT_SHUTDOWN_GRACE_MS = 5000;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): number {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
  return status;
}

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const prefix = '/' + (options.routePrefix ?? 'api');
  const compiled: CompiledRoute<RouteDef>[] = options.routes.map((r) => compileRoute(r.route, r));
  const { logger } = options;
  let baseUrl = '';

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<{ status: number; route: string }> {
    // Only the path is ever logged or matched; the query string can carry credentials (T1-I).
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (!path.toLowerCase().startsWith(prefix + '/')) {
      return { status: sendJson(res, 404, { code: 'NOT_FOUND', message: 'no such route' }), route: '-' };
    }
    const rest = path.slice(prefix.length);
    const method = (req.method ?? 'GET').toUpperCase();
    let methodMismatch: CompiledRoute<RouteDef> | undefined;
    for (const c of compiled) {
      const params = c.match(rest);
      if (!params) continue;
      if (!c.value.methods.includes(method as never)) {
        methodMismatch ??= c;
        continue;
      }
      const def = c.value;
      if (!isAuthorized(def.authLevel, req, options.keys)) {
        return { status: sendJson(res, 401, { code: 'AUTH_REQUIRED', message: 'unauthorized' }), route: def.route };
      }
      const request = toHttpRequest(req, baseUrl, params);
      const context = new InvocationContext({
        invocationId: randomUUID(),
        functionName: def.name,
        options: { trigger: trigger.http({ route: def.route, methods: def.methods, authLevel: def.authLevel }), extraInputs: def.extraInputs ?? [] },
        // Functions logs go through the allowlisted logger only as an event name; free text may carry data.
        logHandler: (level) => {
          if (level === 'error') logger.error('function.log', { name: def.name });
        },
      });
      const result = await def.handler(request, context);
      // A body answered before it was fully read (413, 415) stays unread and the connection closes after the
      // response, so leftover bytes are never parsed as a next request. Cancelling the web stream instead races
      // Node 20's Readable.toWeb adapter (uncaught "Controller is already closed", which would kill this process on
      // any anonymous request with a refused content type) and destroys the socket before the response is written.
      if (!req.complete) res.setHeader('connection', 'close');
      return { status: await writeResponse(res, result), route: def.route };
    }
    if (methodMismatch) {
      return {
        status: sendJson(res, 405, { code: 'METHOD_NOT_ALLOWED', message: 'method not allowed' }, { allow: methodMismatch.value.methods.join(', ') }),
        route: methodMismatch.route,
      };
    }
    return { status: sendJson(res, 404, { code: 'NOT_FOUND', message: 'no such route' }), route: '-' };
  }

  // Invocations in progress: close() lets them settle before the terminate hooks run.
  const running = new Set<Promise<unknown>>();
  const server: Server = createServer((req, res) => {
    const started = performance.now();
    const invocation = dispatch(req, res);
    running.add(invocation);
    invocation.then(() => running.delete(invocation), () => running.delete(invocation));
    invocation.then(
      ({ status, route }) => logger.info('http.request', { method: req.method, route, status, ms: Math.round(performance.now() - started) }),
      () => {
        logger.error('http.unhandled', { method: req.method, code: 'INTERNAL' });
        if (!res.headersSent) sendJson(res, 500, { code: 'INTERNAL', message: 'internal error' });
        else res.destroy();
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 7071, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${options.host ?? '127.0.0.1'}:${port}`;
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    const stopped = new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    await settleWithin([...running], options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
    await stopped;
    await options.hooks?.runTerminate({ logger });
  };
  return {
    url: baseUrl,
    port,
    close: () => (closing ??= close()),
  };
}

/** Resolves when every promise has settled or after `ms`, whichever comes first. */
async function settleWithin(promises: readonly Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([Promise.allSettled(promises), new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}
