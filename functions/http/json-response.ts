// Error and JSON responses in one shape: { code, message }, never a stack.
import type { HttpResponseInit } from '@azure/functions';
import { httpStatusOf, type KarsErrorCode } from '../../core/errors';

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'cache-control': 'no-store', ...headers } };
}

export function errorResponse(code: KarsErrorCode, message: string, headers: Record<string, string> = {}): HttpResponseInit {
  return jsonResponse(httpStatusOf(code), { code, message }, headers);
}
