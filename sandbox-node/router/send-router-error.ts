// Every refusal the router makes is JSON `{ code, message }` with the status of core/errors.ts; nothing from the
// request is echoed. The same pair is repeated under `error`, where OpenAI-compatible clients (the `openai` SDK,
// LangChain …) look for it, so an agent sees the code instead of "status code (no body)".
import type { ServerResponse } from 'node:http';
import { httpStatusOf, type KarsErrorCode } from '../../core/errors';

export function sendRouterError(res: ServerResponse, code: KarsErrorCode, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ code, message, error: { code, message } });
  res.writeHead(httpStatusOf(code), {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

export function sendRouterJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' });
  res.end(body);
}
