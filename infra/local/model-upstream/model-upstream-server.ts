// LOCAL STAND-IN, NOT A MODEL: an OpenAI-compatible endpoint shaped like Azure OpenAI / Foundry (`/openai/v1/...` and
// `/openai/deployments/{d}/...?api-version=`), served over HTTPS with the local dev CA, so the sandbox routers have
// an upstream to call offline. It answers deterministically (chat and responses echo the last user text; embeddings
// are a hash), streams SSE like Azure (`stream_options.include_usage` adds the usage chunk before `[DONE]`), and like
// Azure it answers only requests bearing an Entra token from the local identity server for its audience: no token,
// an API key, a wrong audience or a token living longer than one hour is a 401.
import { createHash, randomUUID } from 'node:crypto';
import * as https from 'node:https';
import { silentLogger, type Logger } from '../../../core/ports/logger.port';
import type { AccessTokenVerifier } from '../identity/access-token-verifier';
import { closeServer, listen, readBody, sendJson } from '../identity/local-http';
import { ensureDevTls } from '../tls/dev-tls';

export const MODEL_UPSTREAM_AUDIENCE = 'https://cognitiveservices.azure.com';
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface StartModelUpstreamOptions {
  verifyAccessToken: AccessTokenVerifier;
  /** Deployments it serves; default gpt-4o-mini and text-embedding-3-small. */
  deployments?: readonly string[];
  port?: number;
  tlsDir?: string;
  audience?: string;
  /** Delay between streamed chunks (default 5 ms). */
  chunkDelayMs?: number;
  logger?: Logger;
}

export interface ModelUpstream {
  url: string;
  port: number;
  caCertPem: string;
  /** What reached it, for tests only (never logged): per request the path, the headers as received and the status. */
  requests(): ReadonlyArray<{ path: string; headerNames: string[]; status: number; headers: Record<string, string | string[] | undefined> }>;
  stop(): Promise<void>;
}

export const DEFAULT_LOCAL_DEPLOYMENTS = ['gpt-4o-mini', 'text-embedding-3-small'] as const;

export async function startModelUpstream(options: StartModelUpstreamOptions): Promise<ModelUpstream> {
  const tls = await ensureDevTls(options.tlsDir ? { dir: options.tlsDir } : {});
  const deployments = new Set(options.deployments ?? DEFAULT_LOCAL_DEPLOYMENTS);
  const audience = options.audience ?? MODEL_UPSTREAM_AUDIENCE;
  const delay = options.chunkDelayMs ?? 5;
  const logger = options.logger ?? silentLogger;
  const seen: Array<{ path: string; headerNames: string[]; status: number; headers: Record<string, string | string[] | undefined> }> = [];
  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2' });

  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', 'https://local');
    const record = { path: url.pathname, headerNames: Object.keys(req.headers), status: 0, headers: { ...req.headers } };
    seen.push(record);
    res.once('finish', () => {
      record.status = res.statusCode;
      logger.info('model_upstream.request', { method: req.method, route: url.pathname.replace(/deployments\/[^/]+/, 'deployments/{d}'), status: res.statusCode });
    });
    void (async () => {
      const auth = String(req.headers.authorization ?? '');
      const m = /^Bearer (\S+)$/.exec(auth);
      const checked = m ? await options.verifyAccessToken(m[1]!, audience) : undefined;
      if (!checked?.ok) {
        return sendJson(res, 401, { error: { code: 'PermissionDenied', message: 'Access denied: a valid Entra token for this resource is required.' } });
      }
      const op = operationOf(url);
      if (!op) return sendJson(res, 404, { error: { code: 'NotFound', message: 'Resource not found' } });
      const raw = await readBody(req, MAX_BODY_BYTES);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw?.toString('utf8') ?? '') as Record<string, unknown>;
      } catch {
        return sendJson(res, 400, { error: { code: 'BadRequest', message: 'body must be JSON' } });
      }
      const model = op.deployment ?? (typeof body.model === 'string' ? body.model : '');
      if (!deployments.has(model)) return sendJson(res, 404, { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } });
      if (op.name === 'embeddings') return sendJson(res, 200, embeddings(body, model));
      const text = `echo: ${lastUserText(body)}`;
      if (body.stream === true) return streamAnswer(res, op.name, model, text, body, delay);
      return sendJson(res, 200, op.name === 'chat' ? chatCompletion(model, text) : responseObject(model, text));
    })().catch(() => sendJson(res, 500, { error: { code: 'InternalServerError', message: 'stand-in failed' } }));
  });
  const port = await listen(server, options.port ?? 0);
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    caCertPem: tls.caCertPem,
    requests: () => seen,
    stop: () => closeServer(server),
  };
}

function operationOf(url: URL): { name: 'chat' | 'embeddings' | 'responses'; deployment?: string } | undefined {
  const byPath: Record<string, 'chat' | 'embeddings' | 'responses'> = { 'chat/completions': 'chat', embeddings: 'embeddings', responses: 'responses' };
  const v1 = /^\/openai\/v1\/(chat\/completions|embeddings|responses)$/.exec(url.pathname);
  if (v1) return { name: byPath[v1[1]!]! };
  const az = /^\/openai\/deployments\/([A-Za-z0-9._-]+)\/(chat\/completions|embeddings|responses)$/.exec(url.pathname);
  if (az && url.searchParams.get('api-version')) return { name: byPath[az[2]!]!, deployment: az[1]! };
  return undefined;
}

function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? body.messages : undefined;
  const input = messages ?? (typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : Array.isArray(body.input) ? body.input : []);
  for (let i = input.length - 1; i >= 0; i--) {
    const msg = input[i] as { role?: unknown; content?: unknown };
    if (msg?.role !== 'user') continue;
    if (typeof msg.content === 'string') return msg.content.slice(0, 2000);
    if (Array.isArray(msg.content)) {
      return msg.content.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join('').slice(0, 2000);
    }
  }
  return '';
}

const tokensOf = (s: string): number => Math.max(1, Math.ceil(s.length / 4));

function chatCompletion(model: string, text: string): object {
  return {
    id: `chatcmpl-${randomUUID()}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: tokensOf(text), completion_tokens: tokensOf(text), total_tokens: 2 * tokensOf(text) },
  };
}

function responseObject(model: string, text: string, status = 'completed'): Record<string, unknown> {
  return {
    id: `resp_${randomUUID().replace(/-/g, '')}`, object: 'response', created_at: Math.floor(Date.now() / 1000), status, model,
    output: status === 'completed' ? [{ id: `msg_${randomUUID().replace(/-/g, '')}`, type: 'message', role: 'assistant', status: 'completed',
      content: [{ type: 'output_text', text, annotations: [] }] }] : [],
    usage: status === 'completed' ? { input_tokens: tokensOf(text), output_tokens: tokensOf(text), total_tokens: 2 * tokensOf(text) } : null,
  };
}

function embeddings(body: Record<string, unknown>, model: string): object {
  const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? '')];
  return {
    object: 'list', model,
    data: inputs.map((s, index) => {
      const vector = [...createHash('sha256').update(s).digest().subarray(0, 8)].map((b) => (b - 128) / 128);
      // The openai SDK asks for base64 (little-endian float32) by default, as Azure supports.
      const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', index, embedding };
    }),
    usage: { prompt_tokens: inputs.reduce((n, s) => n + tokensOf(s), 0), total_tokens: inputs.reduce((n, s) => n + tokensOf(s), 0) },
  };
}

async function streamAnswer(
  res: import('node:http').ServerResponse, op: 'chat' | 'responses', model: string, text: string, body: Record<string, unknown>, delayMs: number,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-ms-region': 'local' });
  const pieces = text.match(/\S+\s*/g) ?? [''];
  const send = async (event: string | undefined, data: unknown): Promise<void> => {
    res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    await new Promise((r) => setTimeout(r, delayMs));
  };
  if (op === 'chat') {
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: object, finish: string | null) => ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }], usage: null });
    await send(undefined, chunk({ role: 'assistant', content: '' }, null));
    for (const p of pieces) await send(undefined, chunk({ content: p }, null));
    await send(undefined, chunk({}, 'stop'));
    if ((body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true) {
      await send(undefined, { id, object: 'chat.completion.chunk', created, model, choices: [],
        usage: { prompt_tokens: tokensOf(text), completion_tokens: tokensOf(text), total_tokens: 2 * tokensOf(text) } });
    }
    await send(undefined, '[DONE]');
  } else {
    const base = responseObject(model, text, 'in_progress');
    let seq = 0;
    await send('response.created', { type: 'response.created', sequence_number: seq++, response: base });
    const itemId = `msg_${randomUUID().replace(/-/g, '')}`;
    for (const p of pieces) {
      await send('response.output_text.delta', { type: 'response.output_text.delta', sequence_number: seq++, item_id: itemId, output_index: 0, content_index: 0, delta: p });
    }
    await send('response.completed', { type: 'response.completed', sequence_number: seq++, response: { ...responseObject(model, text), id: base.id } });
  }
  res.end();
}
