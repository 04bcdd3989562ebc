// The HTTP half of the router bridge: `http://127.0.0.1:8443/agt/registry/…` for the agent's AGT RegistryClient.
// Reads the body with the router's one body reader (JSON, capped), hands the call to core, and answers with the
// registry's answer or a stable refusal.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonBody } from '../../../core/http/read-json-body';
import type { MeshBridge } from '../../../core/mesh/bridge/mesh-bridge';
import { sendRouterError, sendRouterJson } from '../send-router-error';

export const AGT_REGISTRY_PREFIX = '/agt/registry/';
export const REGISTRY_MAX_BODY_BYTES = 32 * 1024;

export async function handleAgtRegistry(bridge: MeshBridge, req: IncomingMessage, res: ServerResponse): Promise<string> {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const path = (q >= 0 ? url.slice(0, q) : url).slice(AGT_REGISTRY_PREFIX.length);
  const query = q >= 0 ? url.slice(q + 1) : '';
  const method = req.method ?? 'GET';
  let json: unknown;
  let bytes: Uint8Array | undefined;
  if (method === 'POST' || method === 'PUT') {
    const read = await readJsonBody({ contentType: req.headers['content-type'], contentLength: req.headers['content-length'], chunks: req }, REGISTRY_MAX_BODY_BYTES);
    if (!read.ok) {
      sendRouterError(res, read.code, read.message, read.code === 'HTTP_BODY_TOO_LARGE' ? { connection: 'close' } : {});
      return read.code;
    }
    json = read.value;
    bytes = read.bytes;
  }
  const auth = req.headers.authorization;
  const answer = await bridge.registry({
    method, path, query, authorization: typeof auth === 'string' ? auth : undefined,
    contentType: typeof req.headers['content-type'] === 'string' ? req.headers['content-type'] : undefined,
    ...(json !== undefined ? { json } : {}), ...(bytes ? { bytes } : {}),
  });
  if (answer.kind === 'refused') {
    sendRouterError(res, answer.code, answer.message);
    return answer.code;
  }
  if (answer.kind === 'local') {
    sendRouterJson(res, answer.status, answer.body);
    return 'ok';
  }
  const a = answer.answer;
  res.writeHead(a.status, {
    'content-type': a.contentType ?? 'application/json; charset=utf-8', 'content-length': String(a.body.byteLength), 'cache-control': 'no-store',
  });
  res.end(Buffer.from(a.body));
  return String(a.status);
}
