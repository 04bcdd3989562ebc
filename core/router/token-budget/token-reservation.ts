// RR3 token budgets, per call: how many model tokens a call may use at most, reserved before it is sent. Prompt: the
// request body's UTF-8 byte count, an upper bound for byte-level BPE tokenizers (no token is shorter than a byte and
// the JSON syntax covers the per-message overhead). Output: `max_tokens` / `max_completion_tokens` (chat),
// `max_output_tokens` (responses), or the configured default when the agent sets none; embeddings generate nothing.
// Streamed chat asks the upstream for a final usage chunk (`stream_options.include_usage`), so the call settles on
// the real figure instead of the whole reservation.
import { fail, ok, type Result } from '../../errors';
import type { ModelOperation } from '../model-route';

export interface ReservationSettings {
  /** Output tokens reserved when the agent sets no maximum. */
  readonly defaultMaxOutputTokens: number;
  /** Largest reservation one call may make (the per-request budget). */
  readonly maxTokensPerRequest: number;
}

export interface CallReservation {
  /** Tokens to reserve: prompt estimate + output maximum. */
  readonly tokens: number;
  /** The response is an SSE stream. */
  readonly stream: boolean;
  /** The body to send (streamed chat: with `stream_options.include_usage`), or undefined to send the agent's bytes. */
  readonly body?: Record<string, unknown>;
}

const OUTPUT_FIELDS: Readonly<Record<ModelOperation, readonly string[]>> = {
  chat: ['max_completion_tokens', 'max_tokens'],
  responses: ['max_output_tokens'],
  embeddings: [],
};

/**
 * @param bodyBytes the request body's length in bytes
 * @returns the reservation, or ROUTER_TOKEN_QUOTA_SPENT when it exceeds the per-request budget, INPUT_INVALID for a
 *   maximum that is not a positive integer
 */
export function reserveForCall(operation: ModelOperation, body: Readonly<Record<string, unknown>>, bodyBytes: number, s: ReservationSettings): Result<CallReservation> {
  let output = operation === 'embeddings' ? 0 : s.defaultMaxOutputTokens;
  for (const f of OUTPUT_FIELDS[operation]) {
    const v = body[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) return fail('INPUT_INVALID', `${f} must be a positive integer`);
    output = v;
    break;
  }
  const tokens = bodyBytes + output;
  if (tokens > s.maxTokensPerRequest) return fail('ROUTER_TOKEN_QUOTA_SPENT', 'the call could use more tokens than one request may');
  const stream = body['stream'] === true;
  if (stream && operation === 'chat') {
    const opts = typeof body['stream_options'] === 'object' && body['stream_options'] !== null ? body['stream_options'] as Record<string, unknown> : {};
    if (opts['include_usage'] !== true) return ok({ tokens, stream, body: { ...body, stream_options: { ...opts, include_usage: true } } });
  }
  return ok({ tokens, stream });
}
