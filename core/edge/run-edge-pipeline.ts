// The T1 north-edge pipeline: the steps in the order, each rejection receipted and logged, the accepted event
// enqueued for its sandbox before the 202. Expected refusals and dependency outages come back as a typed outcome;
// nothing a sender can do makes it throw.
import { httpStatusOf, isKarsError, type KarsErrorCode } from '../errors';
import { uriWithoutQuery } from '../http/uri-without-query';
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
import { readCappedBody } from './read-capped-body';
import { recordReceipt } from './record-receipt';
import { refuseQueryCredentials } from './refuse-query-credentials';
import { resolveEdgeOptions } from './resolve-edge-options';
import { validateEvent } from './validate-event';

/** Steps 1-9 in order; 10 (receipt) and 11 (enqueue) follow once all passed. */
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

export interface EdgePipeline {
  readonly options: ResolvedEdgeOptions;
  /** Never rejects for anything the sender controls; only a broken dependency contract (a bug) can still throw. */
  handle(request: EdgeRequest): Promise<EdgeOutcome>;
}

/**
 * Builds the pipeline once per process.
 * @throws {RangeError|TypeError} for invalid options
 * @example const edge = createEdgePipeline(deps, { maxBodyBytes: 256 * 1024 }); const outcome = await edge.handle(req);
 */
export function createEdgePipeline(deps: EdgePipelineDeps, options?: EdgePipelineOptions): EdgePipeline {
  const resolved = resolveEdgeOptions(options);
  return { options: resolved, handle: (request) => handleEdgeRequest(request, deps, resolved) };
}

async function handleEdgeRequest(request: EdgeRequest, deps: EdgePipelineDeps, options: ResolvedEdgeOptions): Promise<EdgeOutcome> {
  const nowMs = deps.clock.nowMs();
  const ctx: EdgeContext = { request, deps, options, nowMs, path: pathOf(request.url) };
  const outcome = await decide(ctx);
  const fields = edgeLogFields(ctx, outcome, Math.max(0, deps.clock.nowMs() - nowMs));
  if (outcome.kind === 'rejected') {
    if (outcome.status >= 500) deps.logger.error('edge.webhook', fields);
    else deps.logger.warn('edge.webhook', fields);
  } else {
    deps.logger.info('edge.webhook', fields);
  }
  return outcome;
}

async function decide(ctx: EdgeContext): Promise<EdgeOutcome> {
  if (!isWebhookChannel(ctx.request.channel)) return reject(ctx, { code: 'NOT_FOUND', message: 'no such route' });
  ctx.channel = ctx.request.channel;
  if (isHookId(ctx.request.hookId)) ctx.hookId = ctx.request.hookId;

  for (const [name, step] of EDGE_STEPS) {
    let rejection: EdgeRejection | undefined;
    try {
      rejection = await step(ctx);
    } catch (e) {
      rejection = fromThrown(ctx, e, name);
    }
    if (rejection !== undefined) return reject(ctx, rejection);
  }

  const answered = ctx.answer !== undefined;
  try {
    await recordReceipt(ctx, answered ? 'answered' : 'accepted', answered ? 200 : 202);
  } catch (e) {
    return reject(ctx, fromThrown(ctx, e, 'receipt'), { receiptFailed: true });
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
    return reject(ctx, fromThrown(ctx, e, 'enqueue'));
  }
  return { kind: 'accepted', status: 202, receiptId, tenantId: delivery.tenantId, sandboxId: delivery.sandboxId, deliveryId: delivery.deliveryId };
}

async function reject(ctx: EdgeContext, rejection: EdgeRejection, flags: { receiptFailed?: boolean } = {}): Promise<EdgeOutcome> {
  const status = statusOf(rejection.code);
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

/** Path without query, fragment, `;`-parameters or authority: what receipts hold. */
function pathOf(url: string): string {
  const uri = uriWithoutQuery(url);
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*/.exec(uri);
  const path = scheme === null ? uri : uri.slice(scheme[0].length);
  return path === '' ? '/' : path;
}
