// Which model call a request is, from its method, path and query alone (before any body is read). The agent speaks
// the OpenAI form (`/v1/...`, model named in the body) or the Azure form (`/openai/deployments/{d}/...?api-version=`);
// both map onto the configured Azure OpenAI / Foundry endpoint. Anything else is refused here, so the router forwards
// only the three operations it understands (no path the agent invents reaches the upstream).
import { fail, ok, type Result } from '../errors';

export const MODEL_OPERATIONS = ['chat', 'embeddings', 'responses'] as const;
export type ModelOperation = (typeof MODEL_OPERATIONS)[number];

const OPERATION_PATHS: Readonly<Record<string, ModelOperation>> = {
  'chat/completions': 'chat',
  embeddings: 'embeddings',
  responses: 'responses',
};

export type RouterRoute =
  | { readonly kind: 'health' }
  | {
      readonly kind: 'model';
      readonly operation: ModelOperation;
      readonly style: 'openai' | 'azure';
      /** Route template for logs (no deployment name, no query). */
      readonly template: string;
      /** Azure form only: the deployment named in the path (checked against the allowlist later). */
      readonly deployment?: string;
      /** Path below the endpoint's own path, query included (only `api-version` is ever forwarded). */
      readonly upstreamPath: string;
    };

/** Azure deployment names: letters, digits, `-`, `_`, `.`; never a dot segment. */
export const DEPLOYMENT_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,64}$/;
const API_VERSION = /^(\d{4}-\d{2}-\d{2}(-preview)?|v1|latest|preview)$/;

/**
 * @param method request method
 * @param rawUrl the request target as received (`/v1/chat/completions`, `/openai/deployments/d/embeddings?api-version=…`)
 * @returns the route, or NOT_FOUND / METHOD_NOT_ALLOWED / INPUT_INVALID (bad query) with a message free of request data
 */
export function matchRouterRoute(method: string, rawUrl: string): Result<RouterRoute> {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? '' : rawUrl.slice(q + 1);
  // Encoded characters, dot segments and empty segments never name a route: refusing them keeps the upstream path
  // exactly one of the forms built below (no `..%2f` games against the endpoint's own path).
  if (!/^(\/[A-Za-z0-9._-]+)+\/?$/.test(path) || /\/\.{1,2}(\/|$)/.test(path)) return fail('NOT_FOUND', 'no such route');
  const seg = path.split('/').filter(Boolean);
  if (seg.length === 1 && seg[0] === 'healthz') {
    if (method !== 'GET' && method !== 'HEAD') return fail('METHOD_NOT_ALLOWED', 'use GET');
    return query ? fail('INPUT_INVALID', 'no query parameters on this route') : ok({ kind: 'health' });
  }
  if (seg[0] === 'v1') {
    const operation = OPERATION_PATHS[seg.slice(1).join('/')];
    if (!operation) return fail('NOT_FOUND', 'no such route');
    if (method !== 'POST') return fail('METHOD_NOT_ALLOWED', 'use POST');
    if (query) return fail('INPUT_INVALID', 'no query parameters on this route');
    const opPath = seg.slice(1).join('/');
    return ok({ kind: 'model', operation, style: 'openai', template: `/v1/${opPath}`, upstreamPath: `/openai/v1/${opPath}` });
  }
  if (seg[0] === 'openai' && seg[1] === 'deployments' && seg.length >= 4) {
    const deployment = seg[2]!;
    const opPath = seg.slice(3).join('/');
    const operation = OPERATION_PATHS[opPath];
    if (!operation || !DEPLOYMENT_NAME.test(deployment)) return fail('NOT_FOUND', 'no such route');
    if (method !== 'POST') return fail('METHOD_NOT_ALLOWED', 'use POST');
    const params = new URLSearchParams(query);
    const keys = [...params.keys()];
    const apiVersion = params.get('api-version');
    if (keys.length !== 1 || apiVersion === null || !API_VERSION.test(apiVersion)) {
      return fail('INPUT_INVALID', 'the Azure form takes exactly one query parameter, api-version');
    }
    return ok({
      kind: 'model', operation, style: 'azure', deployment, template: `/openai/deployments/{deployment}/${opPath}`,
      upstreamPath: `/openai/deployments/${deployment}/${opPath}?api-version=${apiVersion}`,
    });
  }
  return fail('NOT_FOUND', 'no such route');
}
