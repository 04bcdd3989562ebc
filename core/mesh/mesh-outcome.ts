// What a mesh operation answers: a status and a JSON body, or a stable error code (core/errors.ts) whose public message
// never says why authentication failed (the precise reason goes to the log).
import type { KarsErrorCode } from '../errors';

export type MeshOutcome<T = unknown> =
  | { readonly ok: true; readonly status: number; readonly body: T }
  | { readonly ok: false; readonly code: KarsErrorCode; readonly message: string; readonly retryAfterMs?: number };

export const answer = <T>(status: number, body: T): MeshOutcome<T> => ({ ok: true, status, body });
export const refuse = (code: KarsErrorCode, message: string, retryAfterMs?: number): MeshOutcome<never> =>
  retryAfterMs === undefined ? { ok: false, code, message } : { ok: false, code, message, retryAfterMs };

/** The one public answer to every authentication failure. */
export const unauthenticated = (): MeshOutcome<never> => refuse('AUTH_REQUIRED', 'authentication required');
export const forbidden = (): MeshOutcome<never> => refuse('AUTH_FORBIDDEN', 'not allowed for this sandbox');
