// Turns the Functions HttpRequest into the edge pipeline's request; the body goes over as chunks (bodyChunks).
import type { HttpRequest } from '@azure/functions';
import { bodyChunks } from '../http/body-chunks';
import type { EdgeRequest } from '../../core/edge/edge-types';

export function toEdgeRequest(req: HttpRequest, abortSignal?: AbortSignal): EdgeRequest {
  const headers = req.headers;
  return {
    method: req.method,
    url: req.url,
    channel: req.params.channel ?? '',
    hookId: req.params.hookId ?? '',
    header: (name) => headers.get(name) ?? undefined,
    headerEntries: () => headers.entries(),
    body: bodyChunks(req),
    ...(abortSignal !== undefined ? { abortSignal } : {}),
  };
}
