// POST /api/hooks/{channel}/{hookId} (anonymous: the channel signature is the authentication). Parse → edge pipeline
// → response; the pipeline never throws for anything a sender controls.
import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { publicResponse } from '../../core/edge/public-response';
import type { EdgePipeline } from '../../core/edge/run-edge-pipeline';
import { toEdgeRequest } from './to-edge-request';

export function receiveWebhookHandler(pipeline: EdgePipeline): HttpHandler {
  return async (req): Promise<HttpResponseInit> => {
    const outcome = await pipeline.handle(toEdgeRequest(req));
    const response = publicResponse(outcome);
    return { status: response.status, headers: { ...response.headers }, body: response.body };
  };
}
