// The agent-facing HTTP listener of the sandbox router: parse, call core, map the result. Order per request:
// draining → concurrency slot (T2-D) → route → rate limits (T2-D) → content type → capped body → deployment
// allowlist → token (T3-E) → header hygiene (T2-T) → upstream → response header hygiene and body redaction (T3-I).
import * as http from 'node:http';
import { pipeline } from 'node:stream';
import { isKarsError, type KarsErrorCode } from '../../core/errors';
import { readJsonBody } from '../../core/http/read-json-body';
import type { Clock } from '../../core/ports/clock.port';
import type { Logger } from '../../core/ports/logger.port';
import type { TokenSource } from '../../core/ports/token-source.port';
import { createConcurrencyGate } from '../../core/router/concurrency-gate';
import { forwardRequestHeaders, forwardResponseHeaders, type HeaderPairs } from '../../core/router/forward-headers';
import { matchRouterRoute } from '../../core/router/model-route';
import { isRedirectStatus } from '../../core/router/upstream/redirect-policy';
import { createRouterLimiter, retryAfterSeconds, type RouterLimits } from '../../core/router/router-limiter';
import { resolveRouterDisabled, type RouterMitigation } from '../../core/router/router-mitigations';
import { createRedactingStream } from './redacting-stream';
import { sendRouterError, sendRouterJson } from './send-router-error';
import type { UpstreamClient } from './upstream-client';

export interface RouterServerSettings {
  readonly sandboxId: string;
  readonly agentId: string;
  readonly endpoint: URL;
  readonly scope: string;
  readonly deployments: ReadonlySet<string>;
  readonly maxConcurrency: number;
  readonly maxBodyBytes: number;
  readonly limits: RouterLimits;
}

export interface RouterServerDeps {
  readonly tokens: TokenSource & { currentSecrets?(): string[] };
  readonly upstream: UpstreamClient;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface RouterServerOptions {
  /** TEST ONLY: switch mitigations off to show the attack then succeeds. Never set from configuration. */
  readonly _disable?: readonly RouterMitigation[];
}

export interface RouterServer {
  readonly server: http.Server;
  readonly inFlight: number;
  /** Stops accepting, lets requests in flight finish for up to `graceMs`, then closes every connection. */
  drain(graceMs: number): Promise<void>;
}


export function createRouterServer(settings: RouterServerSettings, deps: RouterServerDeps, options: RouterServerOptions = {}): RouterServer {
  const disabled = resolveRouterDisabled(options._disable);
  const gate = createConcurrencyGate(settings.maxConcurrency, !disabled.has('concurrency-cap'));
  const limiter = createRouterLimiter(settings.limits);
  const basePath = settings.endpoint.pathname.replace(/\/+$/, '');
  const { clock, logger } = deps;
  let draining = false;
  let onIdle: (() => void) | undefined;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, note: Note): Promise<void> => {
    const route = matchRouterRoute(req.method ?? '', req.url ?? '');
    if (!route.ok) return refuse(res, note, route.code, route.message);
    if (route.value.kind === 'health') return sendRouterJson(res, 200, { status: 'ok', sandboxId: settings.sandboxId });
    const r = route.value;
    note.route = r.template;

    if (!disabled.has('rate-limits')) {
      const admitted = limiter.admit(settings.agentId, clock.nowMs());
      if (!admitted.allowed) {
        note.reason = `${admitted.scope}_rate`;
        return refuse(res, note, 'LIMIT_RATE_EXCEEDED', 'rate limit exceeded', { 'retry-after': String(retryAfterSeconds(admitted.retryAfterMs)) });
      }
    }
    // The one body reader every route uses: 415 before reading, 413 while streaming, strict JSON (400).
    const read = await readJsonBody({ contentType: req.headers['content-type'], contentLength: req.headers['content-length'], chunks: req }, settings.maxBodyBytes);
    // The rest of an over-long body is still on the wire: do not reuse this connection.
    if (!read.ok) return refuse(res, note, read.code, read.message, read.code === 'HTTP_BODY_TOO_LARGE' ? { connection: 'close' } : {});
    const body = read.value;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return refuse(res, note, 'INPUT_INVALID', 'request body must be a JSON object');
    const deployment = r.style === 'azure' ? r.deployment : (body as { model?: unknown }).model;
    if (typeof deployment !== 'string') return refuse(res, note, 'INPUT_INVALID', 'model is required');
    if (!settings.deployments.has(deployment)) return refuse(res, note, 'ROUTER_DEPLOYMENT_NOT_ALLOWED', 'this deployment is not available to the sandbox');

    const forwarded = forwardRequestHeaders(pairs(req.rawHeaders), !disabled.has('strip-agent-credentials'));
    note.droppedCredentials = forwarded.droppedCredentials;
    const token = await deps.tokens.getToken(settings.scope);
    const headers: Array<readonly [string, string]> = [...forwarded.headers];
    // A naive proxy (mitigation off) keeps the agent's Authorization instead of setting its own.
    if (!forwarded.agentAuthorization) headers.push(['authorization', `Bearer ${token.token.reveal()}`]);

    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const upstream = await deps.upstream.send({
      url: new URL(basePath + r.upstreamPath, settings.endpoint.origin), method: 'POST', headers, body: read.bytes, signal: abort.signal,
    });
    if (isRedirectStatus(upstream.statusCode ?? 0)) {
      // Never followed, never passed on: a Location could point the agent (or a retry) at another host.
      upstream.destroy();
      note.reason = 'redirect';
      return refuse(res, note, 'UPSTREAM_REDIRECT_REFUSED', 'the model endpoint answered with a redirect');
    }
    const encoding = String(upstream.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && !disabled.has('body-redaction')) {
      // The router asks for identity encoding; a compressed body would hide an echoed token from the redactor.
      upstream.destroy();
      note.reason = 'encoded_response';
      return refuse(res, note, 'ROUTER_UPSTREAM_UNAVAILABLE', publicMessage('ROUTER_UPSTREAM_UNAVAILABLE'));
    }
    const secrets = withEncodedForms([token.token.reveal(), ...(deps.tokens.currentSecrets?.() ?? [])]);
    const redacting = createRedactingStream(secrets, !disabled.has('body-redaction'));
    note.redactions = redacting.redactions;
    const out = forwardResponseHeaders(pairs(upstream.rawHeaders), !disabled.has('response-headers'));
    if (draining) out.push(['connection', 'close']);
    res.writeHead(upstream.statusCode ?? 502, out.flat());
    res.flushHeaders();
    await new Promise<void>((resolve) => {
      pipeline(upstream, redacting.stream, res, (err) => {
        if (err) {
          note.reason = 'stream_broken';
          res.destroy();
        }
        resolve();
      });
    });
  };

  const server = http.createServer({ requestTimeout: 300_000, headersTimeout: 10_000 }, (req, res) => {
    const t0 = clock.nowMs();
    const note: Note = { route: 'unmatched' };
    res.once('close', () => {
      const detail = [
        note.droppedCredentials ? `agent_credentials_dropped=${note.droppedCredentials}` : '',
        note.redactions?.() ? `redacted=${note.redactions()}` : '',
      ].filter(Boolean).join(' ');
      logger.info('router.request', {
        method: req.method, route: note.route, status: res.statusCode, ms: clock.nowMs() - t0, code: note.code,
        sandboxId: settings.sandboxId, reason: note.reason, ...(detail ? { detail } : {}),
      });
    });
    if (draining) return refuse(res, note, 'ROUTER_DRAINING', 'the router is shutting down', { connection: 'close' });
    if (!gate.tryEnter()) return refuse(res, note, 'ROUTER_OVERLOADED', 'too many requests in flight', { 'retry-after': '1' });
    let left = false;
    const leave = (): void => {
      if (left) return;
      left = true;
      gate.leave();
      if (gate.inFlight === 0) onIdle?.();
    };
    res.once('close', leave);
    handle(req, res, note).catch((e: unknown) => {
      const code: KarsErrorCode = isKarsError(e) ? e.code : 'INTERNAL';
      if (!isKarsError(e)) logger.error('router.bug', { name: (e as { name?: string })?.name ?? 'Error' });
      refuse(res, note, code, isKarsError(e) ? publicMessage(code) : 'internal error');
    });
  });

  return {
    server,
    get inFlight() {
      return gate.inFlight;
    },
    async drain(graceMs) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (gate.inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          onIdle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

interface Note {
  route: string;
  code?: KarsErrorCode;
  reason?: string;
  droppedCredentials?: number;
  redactions?: () => number;
}

function refuse(res: http.ServerResponse, note: Note, code: KarsErrorCode, message: string, headers: Record<string, string> = {}): void {
  note.code = code;
  sendRouterError(res, code, message, headers);
}

/** Fixed messages for codes thrown by ports: their own messages may name scopes or upstream details. */
function publicMessage(code: KarsErrorCode): string {
  switch (code) {
    case 'IDENTITY_UNAVAILABLE': return 'the router could not obtain a credential for the model endpoint';
    case 'ROUTER_UPSTREAM_UNAVAILABLE': return 'the model endpoint could not be reached';
    case 'ROUTER_UPSTREAM_TIMEOUT': return 'the model endpoint did not answer in time';
    case 'UPSTREAM_TLS_FAILED':
    case 'UPSTREAM_PIN_MISMATCH':
    case 'UPSTREAM_HOST_NOT_PINNED': return 'the model endpoint failed TLS verification';
    default: return 'request failed';
  }
}

/**
 * The router's own tokens, raw and base64-encoded at each of the three alignments (edge characters that depend on
 * the neighbouring bytes dropped), so an echo re-encoded by the upstream is caught too.
 */
function withEncodedForms(tokens: readonly string[]): string[] {
  const out = new Set<string>();
  for (const t of tokens) {
    out.add(t);
    for (let pad = 0; pad < 3; pad++) {
      const b64 = Buffer.from('\0'.repeat(pad) + t).toString('base64');
      const inner = b64.slice(Math.ceil((pad * 4) / 3) + 1, -4);
      if (inner.length >= 12) out.add(inner);
    }
  }
  return [...out];
}

function pairs(raw: readonly string[]): HeaderPairs {
  const out: Array<readonly [string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}
