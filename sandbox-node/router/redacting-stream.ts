// T3-I: the core stream redactor as a Node Transform, so a response body flows upstream → redactor → agent chunk by
// chunk (a streamed answer is never buffered whole). An optional observer sees the upstream's bytes as they arrive
// (the token-budget usage scanner), in the same stage: one stream hop per chunk, not two.
import { Transform } from 'node:stream';
import { createStreamRedactor } from '../../core/router/stream-redactor';

export interface RedactingStream {
  stream: Transform;
  redactions(): number;
}

/** Sees every chunk of the upstream body before redaction, then its end. */
export interface BodyObserver {
  chunk(bytes: Buffer): void;
  end(): void;
}

/** @param enabled false only with `_disable: ['body-redaction']` */
export function createRedactingStream(secrets: readonly string[], enabled: boolean, observer?: BodyObserver): RedactingStream {
  const redactor = enabled ? createStreamRedactor({ secrets }) : undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      observer?.chunk(chunk);
      if (!redactor) return callback(null, chunk);
      const out = redactor.push(chunk);
      callback(null, out.length > 0 ? out : undefined);
    },
    flush(callback) {
      observer?.end();
      if (!redactor) return callback();
      const out = redactor.end();
      callback(null, out.length > 0 ? out : undefined);
    },
  });
  return { stream, redactions: () => redactor?.redactions ?? 0 };
}
