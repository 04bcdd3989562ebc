// Shared shapes of the webhook verifiers (T1-S): what goes in (raw bytes, header lookup, candidate secrets, time) and
// what comes out (a delivery identity, or one precise rejection code for the audit chain).
import type { Redacted } from '../secrets/redacted';

/** Channels the north edge accepts: `POST /api/hooks/{channel}/{hookId}`. */
export const WEBHOOK_CHANNELS = ['standard', 'github', 'slack', 'teams'] as const;
export type WebhookChannel = (typeof WEBHOOK_CHANNELS)[number];

/** Case-insensitive header lookup, e.g. `(n) => request.headers.get(n) ?? undefined` over a fetch `Headers`. */
export type HeaderLookup = (name: string) => string | undefined;

/** Everything a verifier needs. Nothing here is parsed yet: `body` is the exact bytes read from the socket. */
export interface VerifyWebhookInput {
  /** Raw request body, never a re-serialised or string-decoded copy. */
  readonly body: Uint8Array;
  readonly header: HeaderLookup;
  /**
   * Candidate secrets of the hook, newest first. Two are active during a rotation; at most
   * {@link MAX_CANDIDATE_SECRETS} are accepted so one request costs a bounded number of MACs.
   */
  readonly secrets: readonly Redacted<string>[];
  /** `clock.nowMs()` read once by the caller, so one request sees one instant. */
  readonly nowMs: number;
  /**
   * Lower-case hex SHA-256 of exactly `body`, when the caller has it already (the edge computes it for its receipts):
   * the GitHub replay key and the Teams fallback id reuse it instead of hashing a large body a second time. Anything
   * that is not 64 lower-case hex characters is ignored and the digest is computed here.
   */
  readonly bodySha256Hex?: string;
}

export interface VerifyWebhookOptions {
  /** Accepted distance between the signed timestamp and now, in both directions. Default 300 (the Standard Webhooks reference libraries' ±300 s; Slack's 5 minutes). */
  readonly toleranceSec?: number;
}

export const DEFAULT_TOLERANCE_SEC = 300;
export const MAX_CANDIDATE_SECRETS = 4;

/** Rejection codes a verifier returns; each is a `core/errors.ts` code with status 401. */
export type WebhookVerifyCode =
  | 'WEBHOOK_SIGNATURE_MISSING'
  | 'WEBHOOK_SIGNATURE_MALFORMED'
  | 'WEBHOOK_SIGNATURE_MISMATCH'
  | 'WEBHOOK_TIMESTAMP_INVALID'
  | 'WEBHOOK_TIMESTAMP_SKEW'
  | 'WEBHOOK_HEADER_MISSING'
  | 'WEBHOOK_HEADER_INVALID'
  | 'WEBHOOK_SECRET_INVALID';

export interface WebhookVerified {
  readonly ok: true;
  readonly channel: WebhookChannel;
  /** Sender's delivery id, safe to log and to store in a receipt (restricted charset, ≤ 256 chars). */
  readonly deliveryId: string;
  /**
   * Key for the replay store, derived only from signed material (GitHub's X-GitHub-Delivery header is not signed, so
   * it is not used here). Prefix it with the hook id before storing.
   */
  readonly replayKey: string;
  /** Signed timestamp in Unix seconds, when the channel signs one. */
  readonly timestampSec?: number;
  /** Event type when the transport names it (GitHub's X-GitHub-Event; unsigned, so the schema must agree). */
  readonly eventType?: string;
  /** Index into `secrets` of the secret that matched: tells operators when the old secret stops being used. */
  readonly secretIndex: number;
}

export interface WebhookRejected {
  readonly ok: false;
  readonly code: WebhookVerifyCode;
}

export type WebhookVerifyResult = WebhookVerified | WebhookRejected;

export const reject = (code: WebhookVerifyCode): WebhookRejected => ({ ok: false, code });
