// T3-I: the core stream redactor as a Node Transform, so a response body flows upstream → redactor → agent chunk by
// chunk (a streamed answer is never buffered whole).
import { PassThrough, Transform } from 'node:stream';
import { createStreamRedactor } from '../../core/router/stream-redactor';

export interface RedactingStream {
  stream: Transform;
  redactions(): number;
}

/** @param enabled false only with `_disable: ['body-redaction']` */
export function createRedactingStream(secrets: readonly string[], enabled: boolean): RedactingStream {
  if (!enabled) return { stream: new PassThrough(), redactions: () => 0 };
  const redactor = createStreamRedactor({ secrets });
  const stream = new Transform({
    transform(chunk: Uint8Array, _encoding, callback) {
      const out = redactor.push(chunk);
      callback(null, out.length > 0 ? out : undefined);
    },
    flush(callback) {
      const out = redactor.end();
      callback(null, out.length > 0 ? out : undefined);
    },
  });
  return { stream, redactions: () => redactor.redactions };
}
