// zod schema for the Standard Webhooks payload envelope `{ type, timestamp, data }` (T1-T). Strict at the top level:
// kars senders (the CLI, documented producers) emit exactly these three fields; `data` is the event's own object.
// Spec: standard-webhooks spec/standard-webhooks.md "Payload structure".
import { z } from 'zod';

/** Spec recommendation: full-stop delimited identifiers of `[a-zA-Z0-9_]`, e.g. `user.created`. */
export const STANDARD_EVENT_TYPE_RE = /^[A-Za-z0-9_]{1,64}(?:\.[A-Za-z0-9_]{1,64}){0,7}$/;

export const standardEnvelopeSchema = z.strictObject({
  type: z.string().regex(STANDARD_EVENT_TYPE_RE),
  timestamp: z.iso.datetime({ offset: true }),
  data: z.record(z.string(), z.unknown()),
});

export type StandardEnvelope = z.infer<typeof standardEnvelopeSchema>;
