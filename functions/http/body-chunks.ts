// A Functions request body as chunks for the capped reader (core/http/read-capped.ts). With `enableHttpStream` the body
// is a ReadableStream; an early exit releases the reader WITHOUT cancelling the stream, so the host can still write the
// 413 (cancelling would tear down the socket under the response).
import type { HttpRequest } from '@azure/functions';

function streamChunks(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
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

/** The request's body chunks, or null when it has none. */
export function bodyChunks(req: Pick<HttpRequest, 'body'>): AsyncIterable<Uint8Array> | null {
  return req.body === null ? null : streamChunks(req.body as ReadableStream<Uint8Array>);
}
