// Turns the Functions HttpRequest into the edge pipeline's request. With `enableHttpStream` the body is a
// ReadableStream; it is handed over as chunks whose early exit releases the reader WITHOUT cancelling the stream, so
// the host can still write the 413 (cancelling would tear down the socket under the response).
import type { HttpRequest } from '@azure/functions';
import type { EdgeRequest } from '../../core/edge/edge-types';

export function streamChunks(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      const reader = stream.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          yield value;
        }
      } finally {
        reader.releaseLock();
      }
    },
  };
}

export function toEdgeRequest(req: HttpRequest, abortSignal?: AbortSignal): EdgeRequest {
  const headers = req.headers;
  return {
    method: req.method,
    url: req.url,
    channel: req.params.channel ?? '',
    hookId: req.params.hookId ?? '',
    header: (name) => headers.get(name) ?? undefined,
    headerEntries: () => headers.entries(),
    body: req.body === null ? null : streamChunks(req.body as ReadableStream<Uint8Array>),
    ...(abortSignal !== undefined ? { abortSignal } : {}),
  };
}
