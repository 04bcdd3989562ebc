// Shapes of the T1 edge pipeline: the request as the trigger hands it over, the dependencies (ports), the options
// (including the test-only switches), the per-request context the steps fill in, and the typed outcome.
import type { KarsErrorCode } from '../errors';
import type { Clock } from '../ports/clock.port';
import type { EdgeLimiter } from '../ports/edge-limiter.port';
import type { EdgeQueue } from '../ports/edge-queue.port';
import type { HookRegistry, ResolvedHook } from '../ports/hook-registry.port';
import type { Logger } from '../ports/logger.port';
import type { ReceiptSink } from '../ports/receipt-sink.port';
import type { ReplayClaim, ReplayGuard } from '../ports/replay-guard.port';
import type { ImmediateAnswer } from '../webhook/immediate-answer';
import type { WebhookEvent } from '../webhook/parse-event';
import type { PreAuthGuardOptions, ResolvedPreAuthOptions } from './preauth-guard';
import type { HeaderLookup, WebhookChannel, WebhookVerified } from '../webhook/types';

/** What the trigger hands over. Nothing here is trusted; the body is read (and capped) by the pipeline. */
export interface EdgeRequest {
  readonly method: string;
  /** As received, query included: the pipeline decides what of it may be logged or stored. */
  readonly url: string;
  /** `{channel}` route segment, unverified. */
  readonly channel: string;
  /** `{hookId}` route segment, unverified. */
  readonly hookId: string;
  readonly header: HeaderLookup;
  /** Every header pair, for the redacted log line. */
  readonly headerEntries: () => Iterable<readonly [string, string]>;
  /**
   * The body as it streams in, null when there is none. Leaving a `for await` early calls `return()`: the trigger
   * decides whether that cancels the stream (the Functions adapter does not, so the 413 can still be written).
   */
  readonly body: AsyncIterable<Uint8Array> | null;
  readonly abortSignal?: AbortSignal;
}

export interface EdgePipelineDeps {
  readonly registry: HookRegistry;
  readonly replayGuard: ReplayGuard;
  readonly limiter: EdgeLimiter;
  readonly queue: EdgeQueue;
  readonly receipts: ReceiptSink;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Mitigations a test can switch off to prove its attack test has teeth. Only reachable through
 * `EdgePipelineOptions._disable`, which no configuration loader sets.
 */
export const EDGE_MITIGATIONS = [
  'content-type', 'size-cap', 'query-credentials', 'uri-redaction', 'header-redaction', 'signature', 'timestamp',
  'replay', 'proto-poisoning', 'schema', 'tenant-binding', 'event-allowlist', 'limits', 'preauth-guard',
] as const;
export type EdgeMitigation = (typeof EDGE_MITIGATIONS)[number];

export interface EdgePipelineOptions {
  /** Body cap in bytes, enforced while reading (default 256 KiB). */
  readonly maxBodyBytes?: number;
  /** Signed-timestamp tolerance, both directions (default 300 s: the Standard Webhooks reference libraries' ±300 s; Slack's 5 minutes). */
  readonly toleranceSec?: number;
  /**
   * How long a delivery key is remembered for channels that sign no timestamp (Teams without an activity timestamp;
   * GitHub has its own default, see below): a captured delivery stays replayable after this (default 72 h, Standard
   * Webhooks' retry horizon).
   */
  readonly untimedReplayRetentionSec?: number;
  /**
   * Per-channel override of {@link untimedReplayRetentionSec}. GitHub defaults to
   * {@link DEFAULT_GITHUB_REPLAY_RETENTION_SEC} (it signs no time at all, and redelivers for 3 days, 7 on GHES); every
   * other channel to `untimedReplayRetentionSec`. A capture older than its channel's retention is replayable.
   */
  readonly untimedReplayRetentionSecByChannel?: Readonly<Partial<Record<WebhookChannel, number>>>;
  /**
   * Budget of refusals before authentication that get a receipt each, per hook id and per process (defaults in
   * core/edge/preauth-guard.ts: 10/s burst 200 per hook id, 100/s burst 1000 in all, 10 s summary windows). Past it,
   * such refusals are answered 429 and counted into one summary receipt per window and hook id.
   */
  readonly preAuthGuard?: PreAuthGuardOptions;
  /** TEST ONLY: switch mitigations off to show the attack then succeeds. Never set from configuration. */
  readonly _disable?: readonly EdgeMitigation[];
}

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
export const DEFAULT_UNTIMED_REPLAY_RETENTION_SEC = 72 * 3600;
/**
 * 8 days: outlives GitHub's own redelivery window (3 days on github.com, 7 on GitHub Enterprise Server) by at least a
 * day, so every copy GitHub itself may still send is caught as a duplicate.
 */
export const DEFAULT_GITHUB_REPLAY_RETENTION_SEC = 8 * 86400;

export interface ResolvedEdgeOptions {
  readonly maxBodyBytes: number;
  readonly toleranceSec: number;
  readonly untimedReplayRetentionSec: number;
  /** Replay-claim lifetime for a delivery without a signed timestamp, by channel (what the "replay" step uses). */
  readonly untimedReplayRetentionSecByChannel: Readonly<Record<WebhookChannel, number>>;
  readonly preAuthGuard: ResolvedPreAuthOptions;
  readonly disabled: ReadonlySet<EdgeMitigation>;
}

/** A refusal decided by a step: a code (status from core/errors.ts) and a public message free of request data. */
export interface EdgeRejection {
  readonly code: KarsErrorCode;
  readonly message: string;
  readonly retryAfterMs?: number;
}

/** Per-request state; each step reads what earlier steps established and adds its own result. */
export interface EdgeContext {
  readonly request: EdgeRequest;
  readonly deps: EdgePipelineDeps;
  readonly options: ResolvedEdgeOptions;
  /** Read once: one request sees one instant. */
  readonly nowMs: number;
  /** Path without query, fragment or `;`-parameters: what receipts hold. */
  readonly path: string;
  channel?: WebhookChannel;
  /** The route's hook id, only when it has the shape of one. */
  hookId?: string;
  body?: Uint8Array;
  /** Lower-case hex SHA-256 of `body`. */
  bodyDigest?: string;
  hook?: ResolvedHook;
  verified?: WebhookVerified;
  replayClaim?: Extract<ReplayClaim, { status: 'fresh' }>;
  event?: WebhookEvent;
  eventName?: string;
  /** The tenant the request is bound to: the registration's, never a header's. */
  tenantId?: string;
  answer?: ImmediateAnswer;
  receiptId?: string;
}

export type EdgeStep = (ctx: EdgeContext) => Promise<EdgeRejection | undefined> | EdgeRejection | undefined;

export type EdgeOutcome =
  | {
      readonly kind: 'accepted';
      readonly status: 202;
      readonly receiptId: string;
      readonly tenantId: string;
      readonly sandboxId: string;
      readonly deliveryId: string;
    }
  | {
      readonly kind: 'answered';
      readonly status: 200;
      readonly receiptId: string;
      readonly contentType: 'application/json';
      readonly body: string;
    }
  | {
      readonly kind: 'rejected';
      readonly status: number;
      /** Precise code: receipts and logs only. The public body may be generic (every 401 is the same). */
      readonly code: KarsErrorCode;
      readonly message: string;
      readonly retryAfterMs?: number;
      /**
       * Absent when the receipt could not be written (the rejection stands), and for a refusal the pre-auth guard
       * only counted (its trace is the window's summary receipt, written when the window ends).
       */
      readonly receiptId?: string;
      /** For LIMIT_PREAUTH_EXCEEDED: the refusal it stands for (logs and the summary receipt only, never the body). */
      readonly reason?: KarsErrorCode;
      /** The body was not read to its end (413 before the guard turned it into a 429): close the connection. */
      readonly closeConnection?: boolean;
    };
