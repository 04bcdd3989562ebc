// The T1 north-edge pipeline: the steps of EDGE_STEPS in order (cheapest refusals first, as docs/edge.md lists them),
// each rejection receipted and logged, the accepted event enqueued for its sandbox before the 202. Expected refusals and
// dependency outages come back as a typed outcome; nothing a sender can do makes it throw.
import { httpStatusOf, isKarsError, type KarsErrorCode } from '../errors';
import { MAX_LOGGED_URI_CHARS, uriWithoutQuery } from '../http/uri-without-query';
import { isWebhookChannel } from '../webhook/verify-webhook';
import { admitLimits } from './admit-limits';
import { authenticateWebhook } from './authenticate-webhook';
import { bindTenant } from './bind-tenant';
import { checkContentType } from './check-content-type';
import { checkEventAllowed } from './check-event-allowed';
import { edgeLogFields } from './edge-log';
import { isHookId } from './edge-ids';
import type {
  EdgeContext, EdgeOutcome, EdgePipelineDeps, EdgePipelineOptions, EdgeRejection, EdgeRequest, EdgeStep, ResolvedEdgeOptions,
} from './edge-types';
import { enqueueDelivery } from './enqueue-delivery';
import { guardReplay } from './guard-replay';
import { createPreAuthGuard, NO_HOOK_KEY, type PreAuthGuard } from './preauth-guard';
import { readCappedBody } from './read-capped-body';
import { recordReceipt } from './record-receipt';
import { buildRefusalSummaryReceipt } from './record-refusal-summary';
import { refuseQueryCredentials } from './refuse-query-credentials';
import { resolveEdgeOptions } from './resolve-edge-options';
import { validateEvent } from './validate-event';

/** The steps in order; the receipt (record-receipt.ts) and the enqueue (enqueue-delivery.ts) follow once all passed. */
export const EDGE_STEPS: ReadonlyArray<readonly [name: string, step: EdgeStep]> = [
  ['content-type', checkContentType],
  ['body', readCappedBody],
  ['query-credentials', refuseQueryCredentials],
  ['signature', authenticateWebhook],
  ['replay', guardReplay],
  ['schema', validateEvent],
  ['tenant', bindTenant],
  ['event-allowlist', checkEventAllowed],
  ['limits', admitLimits],
];

/** How long a sender should wait after a dependency outage before retrying. */
export const DEPENDENCY_RETRY_AFTER_MS = 5000;

export interface FlushRefusalSummariesOptions {
  /** Also the window still open (at shutdown); default true. With false, only windows that have ended. */
  includeOpenWindow?: boolean;
}

export interface EdgePipeline {
  readonly options: ResolvedEdgeOptions;
  /** Never rejects for anything the sender controls; only a broken dependency contract (a bug) can still throw. */
  handle(request: EdgeRequest): Promise<EdgeOutcome>;
  /**
   * Writes the pre-auth guard's pending summary receipts now (they are otherwise written when their window ends:
   * by a timer, or by the next request). Resolves when every summary write so far has settled; never rejects (a
   * failed write is logged as `edge.receipt_failed`).
   */
  flushRefusalSummaries(options?: FlushRefusalSummariesOptions): Promise<void>;
}

/** Extra delay after a summary window's end before its timer fires, so the window has closed on the clock too. */
const SUMMARY_FLUSH_SLACK_MS = 50;

/** What one pipeline instance keeps between requests: the pre-auth guard and the writing of its summaries. */
interface PipelineRuntime {
  readonly guard: PreAuthGuard;
  /** Writes the summaries of ended windows (or all); the promise settles when every write so far has. */
  flush(nowMs: number, includeOpenWindow: boolean): Promise<void>;
  /** Makes sure a timer will write the earliest pending window once it ends. */
  arm(): void;
}

/**
 * Builds the pipeline once per process.
 * @throws {RangeError|TypeError} for invalid options
 * @example const edge = createEdgePipeline(deps, { maxBodyBytes: 256 * 1024 }); const outcome = await edge.handle(req);
 */
export function createEdgePipeline(deps: EdgePipelineDeps, options?: EdgePipelineOptions): EdgePipeline {
  const resolved = resolveEdgeOptions(options);
  const runtime = createRuntime(deps, resolved);
  return {
    options: resolved,
    handle: (request) => handleEdgeRequest(request, deps, resolved, runtime),
    flushRefusalSummaries: (flushOptions) => runtime.flush(deps.clock.nowMs(), flushOptions?.includeOpenWindow ?? true),
  };
}

function createRuntime(deps: EdgePipelineDeps, options: ResolvedEdgeOptions): PipelineRuntime {
  const guard = createPreAuthGuard(options.preAuthGuard);
  let written: Promise<void> = Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const runtime: PipelineRuntime = {
    guard,
    flush(nowMs, includeOpenWindow) {
      const summaries = guard.takeSummaries(nowMs, includeOpenWindow);
      if (summaries.length > 0) {
        const writes = summaries.map((summary) => deps.receipts.append(buildRefusalSummaryReceipt(summary)).then(() => undefined, (e: unknown) => {
          // The counts are lost with the write; the per-request log lines remain.
          deps.logger.error('edge.receipt_failed', {
            hookId: isHookId(summary.hookKey) ? summary.hookKey : undefined,
            code: isKarsError(e) ? e.code : 'INTERNAL',
            reason: 'LIMIT_PREAUTH_EXCEEDED',
            count: summary.count,
          });
        }));
        written = Promise.all([written, ...writes]).then(() => undefined);
      }
      return written;
    },
    arm() {
      if (timer !== undefined) return;
      const endMs = guard.nextWindowEndMs();
      if (endMs === undefined) return;
      const delayMs = Math.min(Math.max(0, endMs - deps.clock.nowMs()), options.preAuthGuard.windowMs) + SUMMARY_FLUSH_SLACK_MS;
      timer = setTimeout(() => {
        timer = undefined;
        void runtime.flush(deps.clock.nowMs(), false).then(() => runtime.arm());
      }, delayMs);
      // A pending summary never keeps the process alive; shutdown calls flushRefusalSummaries().
      timer.unref?.();
    },
  };
  return runtime;
}

async function handleEdgeRequest(request: EdgeRequest, deps: EdgePipelineDeps, options: ResolvedEdgeOptions, runtime: PipelineRuntime): Promise<EdgeOutcome> {
  const nowMs = deps.clock.nowMs();
  // A summary window that ended is written by the first request after it (and by the timer): not awaited here.
  if (runtime.guard.hasClosedWindow(nowMs)) void runtime.flush(nowMs, false);
  const ctx: EdgeContext = { request, deps, options, nowMs, path: requestPathOf(request.url) };
  const outcome = await decide(ctx, runtime);
  const fields = edgeLogFields(ctx, outcome, Math.max(0, deps.clock.nowMs() - nowMs));
  if (outcome.kind === 'rejected') {
    if (outcome.status >= 500) deps.logger.error('edge.webhook', fields);
    else deps.logger.warn('edge.webhook', fields);
  } else {
    deps.logger.info('edge.webhook', fields);
  }
  return outcome;
}

async function decide(ctx: EdgeContext, runtime: PipelineRuntime): Promise<EdgeOutcome> {
  if (!isWebhookChannel(ctx.request.channel)) return reject(ctx, runtime, { code: 'NOT_FOUND', message: 'no such route' });
  ctx.channel = ctx.request.channel;
  if (isHookId(ctx.request.hookId)) ctx.hookId = ctx.request.hookId;

  for (const [name, step] of EDGE_STEPS) {
    let rejection: EdgeRejection | undefined;
    try {
      const result = step(ctx);
      // Most steps answer synchronously: awaiting only real promises saves a microtask turn per step.
      rejection = result instanceof Promise ? await result : result;
    } catch (e) {
      rejection = fromThrown(ctx, e, name);
    }
    if (rejection !== undefined) return reject(ctx, runtime, rejection);
  }

  const answered = ctx.answer !== undefined;
  try {
    await recordReceipt(ctx, answered ? 'answered' : 'accepted', answered ? 200 : 202);
  } catch (e) {
    return reject(ctx, runtime, fromThrown(ctx, e, 'receipt'), { receiptFailed: true });
  }
  const receiptId = ctx.receiptId!;
  if (ctx.answer !== undefined) {
    return { kind: 'answered', status: 200, receiptId, contentType: 'application/json', body: ctx.answer.body };
  }
  let delivery;
  try {
    delivery = await enqueueDelivery(ctx);
  } catch (e) {
    // The accepted receipt stands; a second, rejecting receipt for the same request hash records the failure.
    return reject(ctx, runtime, fromThrown(ctx, e, 'enqueue'));
  }
  return { kind: 'accepted', status: 202, receiptId, tenantId: delivery.tenantId, sandboxId: delivery.sandboxId, deliveryId: delivery.deliveryId };
}

async function reject(ctx: EdgeContext, runtime: PipelineRuntime, rejection: EdgeRejection, flags: { receiptFailed?: boolean } = {}): Promise<EdgeOutcome> {
  const status = statusOf(rejection.code);
  const throttled = throttlePreAuth(ctx, runtime, rejection, status);
  if (throttled !== undefined) return throttled;
  // A refused request gives its delivery key back, so the sender's retry (after a 429 or an outage) is not a replay.
  const claim = ctx.replayClaim;
  if (claim !== undefined) {
    ctx.replayClaim = undefined;
    await claim.release().catch((e: unknown) => {
      ctx.deps.logger.warn('edge.replay_release_failed', { hookId: ctx.hookId, code: isKarsError(e) ? e.code : 'INTERNAL' });
    });
  }
  let receiptId: string | undefined;
  ctx.receiptId = undefined;
  if (!flags.receiptFailed) {
    try {
      receiptId = await recordReceipt(ctx, 'rejected', status, rejection.code);
    } catch (e) {
      // The refusal stands without its receipt; the gap is visible in the log.
      ctx.deps.logger.error('edge.receipt_failed', { hookId: ctx.hookId, code: isKarsError(e) ? e.code : 'INTERNAL', reason: rejection.code });
    }
  }
  const outcome: EdgeOutcome = { kind: 'rejected', status, code: rejection.code, message: rejection.message };
  return {
    ...outcome,
    ...(rejection.retryAfterMs !== undefined ? { retryAfterMs: rejection.retryAfterMs } : {}),
    ...(receiptId !== undefined ? { receiptId } : {}),
  };
}

/**
 * T1-D: a refusal of a request that never authenticated (no verified delivery) and that the sender caused (< 500) gets
 * its own receipt while the pre-auth budget of its hook id and of the process lasts. Past it the answer is 429 with
 * Retry-After and the refusal is only counted for its window's summary receipt. Every such refusal, whatever hook id
 * it names (existing or not), is treated alike, so the 429 says nothing about which hook ids exist.
 */
function throttlePreAuth(ctx: EdgeContext, runtime: PipelineRuntime, rejection: EdgeRejection, status: number): EdgeOutcome | undefined {
  if (ctx.verified !== undefined || status >= 500 || ctx.options.disabled.has('preauth-guard')) return undefined;
  const hookKey = isHookId(ctx.request.hookId) ? ctx.request.hookId : NO_HOOK_KEY;
  const verdict = runtime.guard.admit(hookKey, ctx.nowMs);
  if (verdict.receipt) return undefined;
  runtime.guard.count(hookKey, ctx.tenantId, rejection.code, ctx.nowMs);
  runtime.arm();
  return {
    kind: 'rejected',
    status: 429,
    code: 'LIMIT_PREAUTH_EXCEEDED',
    message: 'too many refused requests, retry later',
    retryAfterMs: verdict.retryAfterMs,
    reason: rejection.code,
    ...(rejection.code === 'HTTP_BODY_TOO_LARGE' ? { closeConnection: true } : {}),
  };
}

// A dependency's KarsError keeps its code (for the receipt) and becomes a retryable 503 unless it is a 4xx the sender
// caused (BUS_MESSAGE_TOO_LARGE). Anything else is a bug: INTERNAL, logged with the step, never with its text.
function fromThrown(ctx: EdgeContext, e: unknown, step: string): EdgeRejection {
  if (isKarsError(e)) {
    const status = httpStatusOf(e.code);
    if (status < 500) return { code: e.code, message: 'request refused by a dependency' };
    return { code: e.code, message: 'dependency unavailable', retryAfterMs: DEPENDENCY_RETRY_AFTER_MS };
  }
  ctx.deps.logger.error('edge.step_failed', { detail: step, hookId: ctx.hookId, code: 'INTERNAL' });
  return { code: 'INTERNAL', message: 'internal error' };
}

function statusOf(code: KarsErrorCode): number {
  const status = httpStatusOf(code);
  // Dependency codes with a 500 in the table (SECRET_NOT_FOUND: a misconfigured hook) are outages from the sender's
  // side: 503 so it retries once an operator fixed it. Only INTERNAL stays 500.
  return status >= 500 && code !== 'INTERNAL' ? 503 : status;
}

// `scheme://authority/path` with nothing to strip: no query, fragment, userinfo or `;`-parameters (the usual case).
const PLAIN_URL_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@;]*(\/[^?#;]*)?$/;

/**
 * Path without query, fragment, `;`-parameters or authority: what receipts hold. A plain URL short enough not to be cut
 * is answered by one regex; anything else goes through uriWithoutQuery (same result, property-tested).
 */
export function requestPathOf(url: string): string {
  if (url.length <= MAX_LOGGED_URI_CHARS) {
    const plain = PLAIN_URL_RE.exec(url);
    if (plain !== null) return plain[1] ?? '/';
  }
  const uri = uriWithoutQuery(url);
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*/.exec(uri);
  const path = scheme === null ? uri : uri.slice(scheme[0].length);
  return path === '' ? '/' : path;
}
