// Every expected failure carries a stable code; the code (not instanceof) survives process and wire boundaries.

/**
 * code → HTTP status. Add a code here (one line, keep the AREA_REASON shape) and a row in docs/errors.md;
 * tests/core/errors.test.ts checks both.
 */
export const KARS_ERROR_STATUS = {
  CONFIG_INVALID: 500,
  INPUT_INVALID: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  INTERNAL: 500,
  DEPENDENCY_UNAVAILABLE: 503,
  DEPENDENCY_TIMEOUT: 504,
  STORE_CONFLICT: 409,
  STORE_PRECONDITION_FAILED: 412,
  STORE_NOT_FOUND: 404,
  STORE_UNAVAILABLE: 503,
  BUS_UNAVAILABLE: 503,
  BUS_SESSION_LOCKED: 409,
  BUS_LOCK_LOST: 409,
  BUS_QUEUE_NOT_FOUND: 500,
  BUS_MESSAGE_TOO_LARGE: 413,
  BUS_UNAUTHORIZED: 500,
  SECRET_NOT_FOUND: 500,
  SECRET_UNAVAILABLE: 503,
  SECRET_NAME_INVALID: 500,
  IDENTITY_UNAVAILABLE: 503,
  AUDIT_CHAIN_BROKEN: 500,
  AUDIT_APPEND_CONTENDED: 503,
  AUDIT_CHECKPOINT_INVALID: 500,
  AUDIT_BACKLOG_FULL: 503,
  ORCHESTRATION_NOT_FOUND: 404,
  ORCHESTRATION_FAILED: 500,
  ORCHESTRATION_INSTANCE_EXISTS: 409,
  ORCHESTRATION_NOT_RUNNING: 409,
  ROLLOUT_PLAN_INVALID: 400,
  SANDBOX_NOT_FOUND: 404,
  AUTH_REQUIRED: 401,
  AUTH_FORBIDDEN: 403,
  WEBHOOK_SIGNATURE_MISSING: 401,
  WEBHOOK_SIGNATURE_MALFORMED: 401,
  WEBHOOK_SIGNATURE_MISMATCH: 401,
  WEBHOOK_TIMESTAMP_INVALID: 401,
  WEBHOOK_TIMESTAMP_SKEW: 401,
  WEBHOOK_HEADER_MISSING: 401,
  WEBHOOK_HEADER_INVALID: 401,
  WEBHOOK_SECRET_INVALID: 401,
  WEBHOOK_EVENT_UNSUPPORTED: 400,
  WEBHOOK_REPLAY: 409,
  WEBHOOK_HOOK_UNKNOWN: 401,
  WEBHOOK_CHANNEL_MISMATCH: 401,
  WEBHOOK_TENANT_MISMATCH: 403,
  WEBHOOK_EVENT_NOT_ALLOWED: 403,
  // Request bodies, the same four answers on every route (edge, hook admin, rollouts): checked in this order.
  HTTP_CONTENT_TYPE_UNSUPPORTED: 415,
  HTTP_BODY_TOO_LARGE: 413,
  HTTP_BODY_MALFORMED: 400,
  HTTP_QUERY_CREDENTIAL: 400,
  LIMIT_RATE_EXCEEDED: 429,
  LIMIT_QUOTA_EXCEEDED: 403,
  LIMIT_PREAUTH_EXCEEDED: 429,
  SECCOMP_PROFILE_INVALID: 500,
  JAIL_BUILD_FAILED: 500,
  EGRESS_RULES_INVALID: 500,
  EGRESS_APPLY_FAILED: 500,
  IMAGE_SIGNATURE_INVALID: 403,
  EGRESS_TARGET_INVALID: 400,
  EGRESS_HOST_NOT_ALLOWED: 403,
  EGRESS_IP_LITERAL: 403,
  EGRESS_ADDRESS_FORBIDDEN: 403,
  EGRESS_RESOLVE_FAILED: 502,
  EGRESS_UPSTREAM_UNREACHABLE: 502,
  EGRESS_CIRCUIT_OPEN: 503,
  EGRESS_TUNNELS_EXHAUSTED: 503,
  UPSTREAM_HOST_NOT_PINNED: 502,
  UPSTREAM_TLS_FAILED: 502,
  UPSTREAM_PIN_MISMATCH: 502,
  UPSTREAM_REDIRECT_REFUSED: 502,
  ROUTER_LISTEN_NOT_LOOPBACK: 500,
  ROUTER_OVERLOADED: 503,
  ROUTER_DRAINING: 503,
  ROUTER_DEPLOYMENT_NOT_ALLOWED: 403,
  ROUTER_UPSTREAM_UNAVAILABLE: 503,
  ROUTER_ABSOLUTE_FORM_REFUSED: 400,
  ROUTER_TOKEN_BUDGET_EXCEEDED: 429,
  ROUTER_TOKEN_QUOTA_SPENT: 403,
  ROUTER_UPSTREAM_TIMEOUT: 504,
  ROUTER_RECEIPT_SPOOL_FULL: 503,
  ROUTER_EVENTS_UNAVAILABLE: 503,
  ROUTER_EVENTS_POLL_BUSY: 409,
  ROUTER_EVENTS_IN_FLIGHT_FULL: 429,
  ROUTER_EVENT_LEASE_UNKNOWN: 404,
  ROUTER_EVENT_SETTLING: 409,
  ROUTER_EVENT_LOCK_LOST: 409,
  MESH_FRAME_INVALID: 400,
  MESH_PREKEY_SIGNATURE_INVALID: 401,
  MESH_PREKEY_UNKNOWN: 409,
  MESH_DECRYPT_FAILED: 400,
  MESH_MESSAGE_DUPLICATE: 409,
  MESH_SKIP_LIMIT: 400,
  MESH_SESSION_NOT_READY: 409,
  MESH_KNOCK_SIGNATURE_INVALID: 401,
  MESH_KNOCK_STALE: 401,
  MESH_STATE_INVALID: 500,
  MESH_PLAINTEXT_REFUSED: 400,
  MESH_PREKEY_INVALID: 400,
  MESH_CONTENDED: 503,
  MESH_INBOX_FULL: 429,
  TRUST_SIGNATURE_INVALID: 401,
  TRUST_UPDATE_STALE: 401,
  TRUST_ISSUER_UNAUTHORIZED: 403,
  TRUST_UPDATE_REPLAY: 409,
} as const;

export type KarsErrorCode = keyof typeof KARS_ERROR_STATUS;

/** Failure with a stable code. Never put secret material in message or cause: errors end up in logs. */
export class KarsError extends Error {
  override readonly name = 'KarsError';
  readonly code: KarsErrorCode;
  constructor(code: KarsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Checks `name`, not the prototype, so it works across duplicated module copies. */
export function isKarsError(e: unknown): e is KarsError {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'KarsError' &&
    typeof (e as { code?: unknown }).code === 'string';
}

export function httpStatusOf(code: KarsErrorCode): number {
  return KARS_ERROR_STATUS[code];
}

/** Result type for expected rejections: core returns these and throws only for bugs. */
export type Result<T, C extends string = KarsErrorCode> =
  | { ok: true; value: T }
  | { ok: false; code: C; message: string };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const fail = <C extends string>(code: C, message: string): { ok: false; code: C; message: string } =>
  ({ ok: false, code, message });
