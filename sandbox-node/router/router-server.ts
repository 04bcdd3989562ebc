// The agent-facing HTTP listener of the sandbox router: parse, call core, map the result. Order per request:
// draining → concurrency slot (T2-D) → absolute form refused → route → rate limits (T2-D) → content type → capped
// body → deployment allowlist → token (T3-E) → header hygiene (T2-T) → upstream with failover (T3-D) → response
// header hygiene and body redaction (T3-I). CONNECT (tool egress, T3-S/T2-I) goes through the same rate limits to the
// egress handler mounted on this listener.
import * as http from 'node:http';
import { pipeline } from 'node:stream';
import type { Duplex } from 'node:stream';
import { httpStatusOf, isKarsError, type KarsErrorCode } from '../../core/errors';
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
import type { CircuitBreakerSet } from '../../core/limits/circuit-breaker-set';
import type { Sleep } from '../../core/ports/sleep.port';
import { callWithFailover, type UpstreamMitigation } from '../../core/router/upstream/call-with-failover';
import type { RouterRoute } from '../../core/router/model-route';
import type { ConnectHandler } from './egress/connect-proxy';
import { StringDecoder } from 'node:string_decoder';
import type { TokenBudget, TokenReservation } from '../../core/ports/token-budget.port';
import { reserveForCall, type ReservationSettings } from '../../core/router/token-budget/token-reservation';
import { createUsageScanner } from '../../core/router/token-budget/usage-scanner';
import type { Tracer } from '@opentelemetry/api';
import type { ReceiptSink } from '../../core/ports/receipt-sink.port';
import { auditableTarget } from '../../core/router/egress/connect-target';
import { observeTunnelAnswer, startCall, type CallOutcome } from './call-telemetry';
import { createRedactingStream } from './redacting-stream';
import { sendRouterError, sendRouterJson } from './send-router-error';
import { sendFailureKind, type UpstreamClient } from './upstream-client';
import type { EventRelay } from '../../core/router/events/event-relay';
import { matchEventRoute } from '../../core/router/events/event-route';
import { serveEventRoute } from './serve-event-route';
import { createEventSocketHandler } from './event-socket';
import type { MeshBridge } from '../../core/mesh/bridge/mesh-bridge';
import { AGT_REGISTRY_PREFIX, handleAgtRegistry } from './mesh/agt-registry-route';
import { AGT_RELAY_PATHS, createAgtRelaySocket } from './mesh/agt-relay-socket';

export interface RouterServerSettings {
  readonly sandboxId: string;
  /** Spec revision this router runs (KARS_ROUTER_REVISION), shown by /healthz for rollout health gates. */
  readonly revision?: string;
  readonly agentId: string;
  readonly endpoint: URL;
  readonly scope: string;
  readonly deployments: ReadonlySet<string>;
  /** Deployment → fallbacks in order (T3-D); absent or missing key: the named deployment only. */
  readonly fallbacks?: ReadonlyMap<string, readonly string[]>;
  readonly maxConcurrency: number;
  readonly maxBodyBytes: number;
  readonly limits: RouterLimits;
  /** RR3: the tenant whose budget the sandbox draws on, and how a call's reservation is sized. */
  readonly tenantId?: string;
  readonly reservation?: ReservationSettings;
}

export interface RouterServerDeps {
  readonly tokens: TokenSource & { currentSecrets?(): string[] };
  readonly upstream: UpstreamClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Deployment health breakers (createDeploymentHealth), shared by every call of this router (T3-D). */
  readonly health: CircuitBreakerSet;
  readonly sleep: Sleep;
  /** Spans per model and tool call (T2-R, T3-R); absent (nothing would export them): trace and span ids only. */
  readonly tracer?: Tracer;
  /** Receipts per model and tool call (T2-R); absent: none (main always sets one). */
  readonly receipts?: ReceiptSink;
  /** RR3 token budgets; absent: no budget (tests of other rows only; main always sets one). */
  readonly budget?: TokenBudget;
  /** The tool-egress CONNECT handler (createConnectHandler); absent: every CONNECT is refused. */
  readonly connect?: ConnectHandler;
  /** Inbound events of this sandbox (sandbox-node/router/router-events.ts); absent: the event routes answer 503. */
  readonly events?: EventRelay;
  /** T4: the mesh bridge (`/agt/relay` WebSocket, `/agt/registry/…`); absent: both paths answer 404. */
  readonly mesh?: MeshBridge;
}

export interface RouterServerOptions {
  /** TEST ONLY: switch mitigations off to show the attack then succeeds. Never set from configuration. */
  readonly _disable?: readonly RouterMitigation[];
  /** TEST ONLY: failover mitigations off (core/router/upstream/call-with-failover.ts). */
  readonly _disableUpstream?: readonly UpstreamMitigation[];
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
  const telemetry = { ...(deps.tracer ? { tracer: deps.tracer } : {}), logger, nowMs: () => clock.nowMs(), ...(deps.receipts ? { receipts: deps.receipts } : {}) };
  const propagate = !disabled.has('trace-propagation');
  const receipts = !disabled.has('call-receipts');
  // The token changes about hourly: the redactor's secret forms are worked out once per set of tokens, not per call.
  let secretForms: { key: string; forms: string[] } | undefined;
  const secretsToRedact = (tokens: readonly string[]): string[] => {
    const key = tokens.join('\n');
    if (secretForms?.key !== key) secretForms = { key, forms: withEncodedForms(tokens) };
    return secretForms.forms;
  };
  // Parsed once per upstream path (a handful per router; bounded since the agent picks the path).
  const upstreamUrls = new Map<string, URL>();
  const upstreamUrl = (path: string): URL => {
    let url = upstreamUrls.get(path);
    if (url === undefined) {
      if (upstreamUrls.size >= 256) upstreamUrls.clear();
      url = new URL(path, settings.endpoint.origin);
      upstreamUrls.set(path, url);
    }
    return url;
  };
  let draining = false;
  let onIdle: (() => void) | undefined;
  const eventSocket = deps.events ? createEventSocketHandler(deps.events) : undefined;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, note: Note): Promise<void> => {
    // A plain HTTP_PROXY request (`GET http://host/…`): tools go through CONNECT only, never in clear via the router.
    if (!(req.url ?? '').startsWith('/')) return refuse(res, note, 'ROUTER_ABSOLUTE_FORM_REFUSED', 'the router is not an HTTP proxy; use CONNECT (HTTPS_PROXY) for tools');
    // T2-D: model calls and event routes draw on the same per-agent and global buckets.
    const admit = (): boolean => {
      if (disabled.has('rate-limits')) return true;
      const admitted = limiter.admit(settings.agentId, clock.nowMs());
      if (admitted.allowed) return true;
      note.reason = `${admitted.scope}_rate`;
      refuse(res, note, 'LIMIT_RATE_EXCEEDED', 'rate limit exceeded', { 'retry-after': String(retryAfterSeconds(admitted.retryAfterMs)) });
      return false;
    };
    // Inbound events (T2-S: loopback only, like every route here; T1-E: only this sandbox's entity and session).
    const eventRoute = matchEventRoute(req.method ?? '', req.url ?? '');
    if (eventRoute) {
      note.route = eventRoute.ok ? eventRoute.value.template : '/v1/events';
      if (!eventRoute.ok) return refuse(res, note, eventRoute.code, eventRoute.message);
      if (!admit()) return;
      if (!deps.events) return refuse(res, note, 'ROUTER_EVENTS_UNAVAILABLE', 'inbound events are not configured for this sandbox');
      return serveEventRoute(deps.events, eventRoute.value, req, res, (code, message, headers) => refuse(res, note, code, message, headers));
    }
    if (deps.mesh && (req.url ?? '').startsWith(AGT_REGISTRY_PREFIX)) {
      note.route = 'agt/registry';
      // T2-D: registry calls draw on the same buckets as model calls.
      if (!admit()) return;
      note.reason = await handleAgtRegistry(deps.mesh, req, res);
      return;
    }
    const route = matchRouterRoute(req.method ?? '', req.url ?? '');
    if (!route.ok) return refuse(res, note, route.code, route.message);
    if (route.value.kind === 'health') return sendRouterJson(res, 200, { status: 'ok', sandboxId: settings.sandboxId, ...(settings.revision !== undefined ? { revision: settings.revision } : {}) });
    const r = route.value;
    note.route = r.template;

    if (!admit()) return;
    // The one body reader every route uses: 415 before reading, 413 while streaming, strict JSON (400).
    const read = await readJsonBody({ contentType: req.headers['content-type'], contentLength: req.headers['content-length'], chunks: req }, settings.maxBodyBytes);
    // The rest of an over-long body is still on the wire: do not reuse this connection.
    if (!read.ok) return refuse(res, note, read.code, read.message, read.code === 'HTTP_BODY_TOO_LARGE' ? { connection: 'close' } : {});
    const body = read.value;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return refuse(res, note, 'INPUT_INVALID', 'request body must be a JSON object');
    const deployment = r.style === 'azure' ? r.deployment : (body as { model?: unknown }).model;
    if (typeof deployment !== 'string') return refuse(res, note, 'INPUT_INVALID', 'model is required');
    if (!settings.deployments.has(deployment)) return refuse(res, note, 'ROUTER_DEPLOYMENT_NOT_ALLOWED', 'this deployment is not available to the sandbox');

    // T2-R / T3-R: a span and a receipt per model call, on the agent's trace when it sent a valid traceparent.
    const call = startCall(telemetry, {
      sandboxId: settings.sandboxId, agentId: settings.agentId, operation: r.operation, target: deployment,
      incoming: first(req.headers['traceparent']), propagate, receipt: receipts,
    });
    if (propagate) {
      res.setHeader('traceparent', call.traceparent);
      res.setHeader('x-kars-trace-id', call.traceId);
    }
    const outcome: CallOutcome = { status: 0 };
    try {
      // RR3: reserve the most this call can use before it is sent; settle on the real usage once it is over.
      let sendBody = body as Record<string, unknown>;
      let sendBytes: Uint8Array = read.bytes;
      let stream = (body as { stream?: unknown }).stream === true;
      let reservation: TokenReservation | undefined;
      if (deps.budget && !disabled.has('token-budget')) {
        const plan = reserveForCall(r.operation, sendBody, read.bytes.byteLength, settings.reservation ?? DEFAULT_RESERVATION);
        if (!plan.ok) return refuse(res, note, plan.code, plan.message);
        stream = plan.value.stream;
        if (plan.value.body) {
          sendBody = plan.value.body;
          sendBytes = Buffer.from(JSON.stringify(sendBody));
        }
        const got = await deps.budget.reserve({ sandboxId: settings.sandboxId, tenantId: settings.tenantId ?? settings.sandboxId }, plan.value.tokens);
        if (!got.ok) {
          note.reason = `budget_${got.level}`;
          return got.kind === 'quota'
            ? refuse(res, note, 'ROUTER_TOKEN_QUOTA_SPENT', 'the token budget for this period is spent')
            : refuse(res, note, 'ROUTER_TOKEN_BUDGET_EXCEEDED', 'token budget exceeded', { 'retry-after': String(retryAfterSeconds(got.retryAfterMs ?? 1000)) });
        }
        reservation = got.reservation;
      }
      let settled = false;
      const settle = async (used: number | undefined): Promise<void> => {
        if (!reservation || settled) return;
        settled = true;
        note.tokens = used ?? reservation.tokens;
        await deps.budget!.settle(reservation, used ?? reservation.tokens);
      };
      const model: string = deployment;
      let sentAny = false;
      const proxy = async (): Promise<void> => {
        const forwarded = forwardRequestHeaders(pairs(req.rawHeaders), !disabled.has('strip-agent-credentials'));
        note.droppedCredentials = forwarded.droppedCredentials;
        const token = await deps.tokens.getToken(settings.scope);
        // T3-R: the router's span is the upstream call's parent; the agent's own trace headers are replaced.
        const headers: Array<readonly [string, string]> = propagate
          ? [...forwarded.headers.filter(([k]) => !TRACE_HEADERS.has(k.toLowerCase())), ['traceparent', call.traceparent], ['x-kars-trace-id', call.traceId]]
          : [...forwarded.headers];
        // A naive proxy (mitigation off) keeps the agent's Authorization instead of setting its own.
        if (!forwarded.agentAuthorization) headers.push(['authorization', `Bearer ${token.token.reveal()}`]);

        const abort = new AbortController();
        res.once('close', () => {
          if (!res.writableFinished) abort.abort();
        });
        // T3-D: along [named, ...fallbacks]; chat and responses never sent twice to one deployment, ≤ 3 attempts.
        const chain = [model, ...(settings.fallbacks?.get(model) ?? [])];
        const result = await callWithFailover<Sent>(
          { method: 'POST', operation: r.operation },
          chain,
          async (d) => {
            try {
              sentAny = true;
              const sent = await deps.upstream.send({
                url: upstreamUrl(basePath + upstreamPathFor(r, model, d)), method: 'POST', headers,
                body: d === model || r.style === 'azure' ? sendBytes : Buffer.from(JSON.stringify({ ...sendBody, model: d })),
                signal: abort.signal,
              });
              return { outcome: { kind: 'response', status: sent.statusCode ?? 502, header: (n) => first(sent.headers[n]) }, value: { response: sent } };
            } catch (e) {
              if (abort.signal.aborted) throw e;
              return { outcome: { kind: sendFailureKind(e) }, value: { error: e } };
            }
          },
          { health: deps.health, clock, sleep: deps.sleep },
          { abortSignal: abort.signal, discard: (v) => v.response?.resume(), ...(options._disableUpstream ? { _disable: options._disableUpstream } : {}) },
        );
        if (result.kind === 'unavailable') {
          await settle(0); // nothing was sent
          note.reason = 'deployments_unhealthy';
          return refuse(res, note, 'ROUTER_UPSTREAM_UNAVAILABLE', publicMessage('ROUTER_UPSTREAM_UNAVAILABLE'), { 'retry-after': String(retryAfterSeconds(result.retryAfterMs)) });
        }
        note.attempts = result.attempts;
        if (result.value.response === undefined) {
          if (sendFailureKind(result.value.error) === 'connect-error') await settle(0);
          throw result.value.error;
        }
        const upstream = result.value.response;
        const status = upstream.statusCode ?? 502;
        // A refused call generated nothing (Azure bills no 4xx/5xx): only a 2xx answer is charged.
        if (status < 200 || status > 299) await settle(0);
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
        const scanner = createUsageScanner(stream);
        const secrets = secretsToRedact([token.token.reveal(), ...(deps.tokens.currentSecrets?.() ?? [])]);
        const decoder = new StringDecoder('utf8');
        const redacting = createRedactingStream(secrets, !disabled.has('body-redaction'), {
          chunk: (bytes) => scanner.push(decoder.write(bytes)),
          end: () => scanner.push(decoder.end()),
        });
        note.redactions = redacting.redactions;
        const forwardedOut = forwardResponseHeaders(pairs(upstream.rawHeaders), !disabled.has('response-headers'));
        const out = propagate
          ? [...forwardedOut.filter(([k]) => !TRACE_HEADERS.has(k.toLowerCase())), ['traceparent', call.traceparent] as const, ['x-kars-trace-id', call.traceId] as const]
          : forwardedOut;
        if (draining) out.push(['connection', 'close']);
        res.writeHead(upstream.statusCode ?? 502, out.flat());
        // A streamed answer shows its headers at once; any other goes out in one write with its body.
        if (stream || String(upstream.headers['content-type'] ?? '').includes('text/event-stream')) res.flushHeaders();
        const broken = await new Promise<boolean>((resolve) => {
          pipeline(upstream, redacting.stream, res, (err) => {
            if (err) {
              note.reason = 'stream_broken';
              res.destroy();
            }
            resolve(err !== undefined && err !== null);
          });
        });
        // A broken stream or a response without usage is charged the whole reservation.
        const usage = scanner.result();
        outcome.target = result.deployment;
        if (usage) { outcome.inputTokens = usage.inputTokens; outcome.outputTokens = usage.outputTokens; }
        const responseId = scanner.responseId();
        if (responseId !== undefined) outcome.responseId = responseId.slice(0, 128);
        if (broken) { outcome.status = res.statusCode; outcome.code = 'ROUTER_STREAM_BROKEN'; }
        await settle(broken ? undefined : usage?.totalTokens);
      };
      try {
        await proxy();
      } finally {
        // Anything that ended without a settled figure (a throw, an abort) after sending may have been processed:
        // charge it all; a call that failed before anything was sent (no token, say) used nothing.
        await settle(sentAny ? undefined : 0);
      }
    } catch (e) {
      outcome.code = isKarsError(e) ? e.code : 'INTERNAL';
      outcome.status = httpStatusOf(outcome.code as KarsErrorCode);
      throw e;
    } finally {
      await call.end({ ...outcome, status: outcome.status || res.statusCode, ...(outcome.code ?? note.code ? { code: outcome.code ?? note.code } : {}) });
    }
  };

  const server = http.createServer({ requestTimeout: 300_000, headersTimeout: 10_000 }, (req, res) => {
    const t0 = clock.nowMs();
    const note: Note = { route: 'unmatched' };
    res.once('close', () => {
      const detail = [
        note.droppedCredentials ? `agent_credentials_dropped=${note.droppedCredentials}` : '',
        note.redactions?.() ? `redacted=${note.redactions()}` : '',
        (note.attempts ?? 0) > 1 ? `attempts=${note.attempts}` : '',
        note.tokens !== undefined ? `tokens=${note.tokens}` : '',
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

  // T4: the agent's AGT MeshClient socket; every frame draws on the per-agent and global buckets (T2-D).
  const relaySocket = deps.mesh
    ? createAgtRelaySocket(deps.mesh, { admit: () => disabled.has('rate-limits') || limiter.admit(settings.agentId, clock.nowMs()).allowed })
    : undefined;
  server.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    // T2-D: tunnels draw on the same per-agent and global buckets as model calls, before the (audited) egress checks.
    if (draining) return refuseTunnel(socket, 'ROUTER_DRAINING', 'the router is shutting down');
    if (!disabled.has('rate-limits')) {
      const admitted = limiter.admit(settings.agentId, clock.nowMs());
      if (!admitted.allowed) {
        logger.info('router.connect', { status: 429, code: 'LIMIT_RATE_EXCEEDED', sandboxId: settings.sandboxId, reason: `${admitted.scope}_rate` });
        return refuseTunnel(socket, 'LIMIT_RATE_EXCEEDED', 'rate limit exceeded', retryAfterSeconds(admitted.retryAfterMs));
      }
    }
    // T2-R: a span and a receipt per tool tunnel, with the answer the egress handler gave.
    const call = startCall(telemetry, {
      sandboxId: settings.sandboxId, agentId: settings.agentId, operation: 'connect', target: auditableTarget(req.url ?? ''),
      incoming: first(req.headers['traceparent']), propagate, receipt: receipts,
    });
    const outcome: CallOutcome = { status: 0 };
    observeTunnelAnswer(socket, (status, code) => {
      outcome.status = status;
      if (code !== undefined) outcome.code = code;
      if (status !== 200) void call.end(outcome);
    });
    socket.once('close', () => { void call.end(outcome); });
    if (!deps.connect) return refuseTunnel(socket, 'EGRESS_HOST_NOT_ALLOWED', 'tool egress is not configured');
    deps.connect(req, socket, head);
  });

  // WebSocket form of the event routes (`GET /v1/events/ws`) and the mesh bridge (`/agt/relay`, T4); no other route
  // upgrades. A socket holds a concurrency slot for its life and draws on the rate limits (T2-D; relay frames each).
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const isRelay = relaySocket !== undefined && AGT_RELAY_PATHS.has((req.url ?? '').split('?')[0] ?? '');
    const route = isRelay ? undefined : matchEventRoute(req.method ?? '', req.url ?? '');
    const log = (status: number, code: KarsErrorCode | undefined): void => {
      logger.info('router.request', { method: req.method, route: isRelay ? '/agt/relay' : '/v1/events/ws', status, code, sandboxId: settings.sandboxId });
    };
    const refuseUpgrade = (code: KarsErrorCode, message: string, retryAfterS?: number): void => {
      log(httpStatusOf(code), code);
      refuseTunnel(socket, code, message, retryAfterS);
    };
    if (isRelay) {
      if (draining) return refuseUpgrade('ROUTER_DRAINING', 'the router is shutting down');
      if (!gate.tryEnter()) return refuseUpgrade('ROUTER_OVERLOADED', 'too many requests in flight', 1);
      socket.once('close', () => {
        gate.leave();
        if (gate.inFlight === 0) onIdle?.();
      });
      log(101, undefined);
      relaySocket!.handleUpgrade(req, socket, head);
      return;
    }
    if (!route?.ok || route.value.kind !== 'socket') return refuseUpgrade(route && !route.ok ? route.code : 'NOT_FOUND', route && !route.ok ? route.message : 'no such route');
    if (draining) return refuseUpgrade('ROUTER_DRAINING', 'the router is shutting down');
    if (!eventSocket) return refuseUpgrade('ROUTER_EVENTS_UNAVAILABLE', 'inbound events are not configured for this sandbox');
    if (!disabled.has('rate-limits')) {
      const admitted = limiter.admit(settings.agentId, clock.nowMs());
      if (!admitted.allowed) return refuseUpgrade('LIMIT_RATE_EXCEEDED', 'rate limit exceeded', retryAfterSeconds(admitted.retryAfterMs));
    }
    if (!gate.tryEnter()) return refuseUpgrade('ROUTER_OVERLOADED', 'too many requests in flight', 1);
    socket.once('close', () => {
      gate.leave();
      if (gate.inFlight === 0) onIdle?.();
    });
    log(101, undefined);
    eventSocket.handle(req, socket, head);
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
      eventSocket?.closeAll();
      relaySocket?.close();
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
      deps.connect?.closeAll();
      await closed;
    },
  };
}

interface Note {
  route: string;
  tokens?: number;
  attempts?: number;
  code?: KarsErrorCode;
  reason?: string;
  droppedCredentials?: number;
  redactions?: () => number;
}

/** Used when the settings name no reservation sizes (tests): 4096 output tokens, 128k per request. */
const DEFAULT_RESERVATION: ReservationSettings = { defaultMaxOutputTokens: 4096, maxTokensPerRequest: 131_072 };

interface Sent {
  readonly response?: http.IncomingMessage;
  readonly error?: unknown;
}

/** The upstream path for deployment `d` when the agent named `named` (Azure form: the path names it). */
function upstreamPathFor(r: Extract<RouterRoute, { kind: 'model' }>, named: string, d: string): string {
  if (d === named || r.style !== 'azure') return r.upstreamPath;
  return r.upstreamPath.replace(`/openai/deployments/${named}/`, `/openai/deployments/${d}/`);
}

const TRACE_HEADERS = new Set(['traceparent', 'tracestate', 'x-kars-trace-id']);

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

const REASON: Record<number, string> = {
  400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 429: 'Too Many Requests', 503: 'Service Unavailable',
};

function refuseTunnel(socket: Duplex, code: KarsErrorCode, message: string, retryAfterS?: number): void {
  const status = httpStatusOf(code);
  const body = JSON.stringify({ code, message });
  socket.end(`HTTP/1.1 ${status} ${REASON[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `${retryAfterS === undefined ? '' : `Retry-After: ${retryAfterS}\r\n`}Connection: close\r\n\r\n${body}`);
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
