// Sends one model call to the configured endpoint and hands back the response as it starts to arrive (the body is a
// stream: nothing is buffered). Redirects are never followed (node:http does not), so a 3xx cannot send the router's
// token elsewhere. TLS uses the injected agent: the egress module's agent factory (system roots, optional SPKI
// pinning and client certificate) plugs in here; by default Node's agent verifies against its root store.
import * as http from 'node:http';
import * as https from 'node:https';
import { KarsError } from '../../core/errors';
import { attemptErrorKind, upstreamTlsErrorCode } from './egress/upstream-agent';

/** An agent, or a factory that picks one per upstream URL. */
export type UpstreamAgent = http.Agent | ((url: URL) => http.Agent);

export interface UpstreamClientOptions {
  agent?: UpstreamAgent;
  /** Until the response headers arrive, and then the longest silence inside a streamed body. */
  timeoutMs: number;
}

export interface UpstreamRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Uint8Array;
  readonly signal: AbortSignal;
}

export interface UpstreamClient {
  /**
   * @throws KarsError ROUTER_UPSTREAM_UNAVAILABLE | ROUTER_UPSTREAM_TIMEOUT | UPSTREAM_TLS_FAILED | UPSTREAM_PIN_MISMATCH |
   *   UPSTREAM_HOST_NOT_PINNED (the cause is never attached: it holds the request, whose headers carry the token)
   */
  send(request: UpstreamRequest): Promise<http.IncomingMessage>;
}

const FAILURE_KIND = new WeakMap<object, 'connect-error' | 'error'>();

/** Whether a `send` failure happened before anything was sent (`connect-error`: safe to send elsewhere) or after. */
export function sendFailureKind(e: unknown): 'connect-error' | 'error' {
  return (typeof e === 'object' && e !== null ? FAILURE_KIND.get(e) : undefined) ?? 'error';
}

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const defaultHttps = new https.Agent({ keepAlive: true, maxSockets: 256 });
  const defaultHttp = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const agentFor = (url: URL): http.Agent => {
    const a = options.agent;
    if (typeof a === 'function') return a(url);
    if (a) return a;
    return url.protocol === 'https:' ? defaultHttps : defaultHttp;
  };
  return {
    send(r) {
      return new Promise<http.IncomingMessage>((resolve, reject) => {
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of r.headers) {
          const prev = headers[k];
          headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
        }
        headers['content-length'] = String(r.body.byteLength);
        const mod = r.url.protocol === 'https:' ? https : http;
        let timedOut = false;
        const req = mod.request(r.url, { method: r.method, headers, agent: agentFor(r.url), signal: r.signal }, (res) => {
          clearTimeout(timer);
          res.setTimeout(options.timeoutMs, () => res.destroy(new Error('upstream went silent')));
          resolve(res);
        });
        const timer = setTimeout(() => {
          timedOut = true;
          req.destroy();
        }, options.timeoutMs);
        req.on('error', (e: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          const tls = upstreamTlsErrorCode(e);
          const err = tls ? new KarsError(tls, 'the model endpoint failed TLS verification') : timedOut
            ? new KarsError('ROUTER_UPSTREAM_TIMEOUT', 'the model endpoint did not answer in time')
            : new KarsError('ROUTER_UPSTREAM_UNAVAILABLE', `the model endpoint could not be reached (${e.code ?? e.name})`);
          // A timeout may have reached the upstream; a refused connect or failed handshake never did (T3-D failover).
          FAILURE_KIND.set(err, timedOut ? 'error' : attemptErrorKind(e));
          reject(err);
        });
        req.end(r.body);
      });
    },
  };
}
