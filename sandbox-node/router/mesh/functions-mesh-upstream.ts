// MeshUpstream over HTTP(S) to the Functions app's mesh routes (functions/mesh/mesh-routes.ts): the registry under
// `<base>/mesh/…`, the relay store under `<base>/mesh/relay/…`, each call with the router's token in
// `x-kars-router-token`. Timeouts are bounded; failures surface as stable codes, never with the token or a body.
import { KarsError } from '../../../core/errors';
import type { MeshUpstream, UpstreamAnswer } from '../../../core/ports/mesh-upstream.port';
import { ROUTER_TOKEN_HEADER } from '../../../core/mesh/router-auth/verify-router-token';
import type { RouterTokenFile } from './router-token-file';

export interface FunctionsMeshUpstreamOptions {
  /** The Function app's `/api` root, e.g. `http://127.0.0.1:7071/api`. */
  baseUrl: string;
  token: RouterTokenFile;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export function createFunctionsMeshUpstream(options: FunctionsMeshUpstreamOptions): MeshUpstream {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetchImpl ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = options.timeoutMs ?? 15_000;

  async function call(method: string, path: string, headers: Record<string, string>, body?: Uint8Array): Promise<UpstreamAnswer> {
    const token = await options.token.token();
    let res: Response;
    try {
      res = await doFetch(`${base}/${path}`, {
        method, headers: { ...headers, [ROUTER_TOKEN_HEADER]: token },
        ...(body ? { body: Buffer.from(body) } : {}), redirect: 'manual', signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const timedOut = (e as { name?: string })?.name === 'TimeoutError';
      throw new KarsError(timedOut ? 'DEPENDENCY_TIMEOUT' : 'DEPENDENCY_UNAVAILABLE', 'mesh routes unreachable');
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    return { status: res.status, contentType: res.headers.get('content-type') ?? undefined, body: bytes };
  }
  const json = (body: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(body));
  const parse = (a: UpstreamAnswer): unknown => {
    try {
      return JSON.parse(new TextDecoder().decode(a.body));
    } catch {
      return undefined;
    }
  };
  const expectOk = (a: UpstreamAnswer, what: string): unknown => {
    if (a.status === 200) return parse(a);
    const code = (parse(a) as { code?: unknown } | undefined)?.code;
    throw new KarsError(a.status >= 500 || a.status === 429 ? 'DEPENDENCY_UNAVAILABLE' : typeof code === 'string' && isCode(code) ? code : 'DEPENDENCY_UNAVAILABLE', `${what} answered ${a.status}`);
  };
  const CT = { 'content-type': 'application/json' };

  return {
    registry(r) {
      const headers: Record<string, string> = {};
      if (r.authorization) headers.authorization = r.authorization;
      if (r.contentType) headers['content-type'] = r.contentType;
      return call(r.method, `mesh/${r.path}${r.query ? `?${r.query}` : ''}`, headers, r.body);
    },
    postFrame(frame) {
      return call('POST', 'mesh/relay/frames', CT, json(frame));
    },
    async fetchPending(did, max) {
      const body = expectOk(await call('POST', 'mesh/relay/pending', CT, json({ did, max })), 'relay pending') as { frames?: unknown; more?: unknown } | undefined;
      const frames = Array.isArray(body?.frames) ? body.frames.filter((f): f is Record<string, unknown> => typeof f === 'object' && f !== null && !Array.isArray(f)) : [];
      return { frames, more: body?.more === true };
    },
    async ack(did, ids) {
      for (let i = 0; i < ids.length; i += 100) expectOk(await call('POST', 'mesh/relay/ack', CT, json({ did, ids: ids.slice(i, i + 100) })), 'relay ack');
    },
    async agentMetadata(did) {
      const a = await call('GET', `mesh/v1/agents/${encodeURIComponent(did)}`, {});
      if (a.status === 404) return undefined;
      const body = expectOk(a, 'registry agent') as { metadata?: unknown } | undefined;
      const m = body?.metadata;
      if (typeof m !== 'object' || m === null || Array.isArray(m)) return {};
      return Object.fromEntries(Object.entries(m).filter((e): e is [string, string] => typeof e[1] === 'string'));
    },
  };
}

const isCode = (code: string): code is 'AUTH_REQUIRED' | 'AUTH_FORBIDDEN' | 'NOT_FOUND' => code === 'AUTH_REQUIRED' || code === 'AUTH_FORBIDDEN' || code === 'NOT_FOUND';
