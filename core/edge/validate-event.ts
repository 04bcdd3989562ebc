// Edge step "schema" (T1-T): the verified bytes are parsed as strict JSON and checked against the zod schema of the channel and
// event type; a failure is 400: HTTP_BODY_MALFORMED for bytes that are not strict JSON, INPUT_INVALID naming the failing
// field paths (schema positions only, never sender text).
import type { WebhookEvent } from '../webhook/parse-event';
import { parseEvent } from '../webhook/parse-event';
import { parseJsonBody } from '../webhook/parse-json-body';
import { immediateAnswerFor } from '../webhook/immediate-answer';
import { eventNameOf } from './event-name';
import type { EdgeContext, EdgeRejection } from './edge-types';

const decoder = new TextDecoder('utf-8', { fatal: false });
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

export function validateEvent(ctx: EdgeContext): EdgeRejection | undefined {
  const { channel, body, verified } = ctx;
  if (channel === undefined || body === undefined || verified === undefined) throw new TypeError('validateEvent needs a verified body');
  if (ctx.options.disabled.has('schema')) {
    ctx.event = unchecked(channel, body, verified.eventType);
    ctx.eventName = ctx.event.type;
    return undefined;
  }
  const json = ctx.options.disabled.has('proto-poisoning') ? parseWithoutPoisonCheck(body) : parseJsonBody(body);
  if (!json.ok) return { code: 'HTTP_BODY_MALFORMED', message: 'request body is not valid JSON' };
  const parsed = parseEvent(channel, channel === 'github' ? verified.eventType : undefined, json.value);
  if (!parsed.ok) {
    return parsed.code === 'WEBHOOK_EVENT_UNSUPPORTED'
      ? { code: 'WEBHOOK_EVENT_UNSUPPORTED', message: 'event type not supported' }
      : { code: 'INPUT_INVALID', message: `invalid payload at: ${parsed.paths.join(', ')}` };
  }
  ctx.event = parsed.event;
  ctx.eventName = eventNameOf(parsed.event);
  ctx.answer = immediateAnswerFor(parsed.event);
  return undefined;
}

// With the schema switched off (tests only) whatever parses is passed on as it came: the sandbox then receives
// unchecked, possibly hostile structure.
function unchecked(channel: EdgeContext['channel'] & string, body: Uint8Array, headerType: string | undefined): WebhookEvent {
  const text = decoder.decode(body);
  let payload: unknown = text;
  try {
    payload = JSON.parse(text);
  } catch {
    // keep the text
  }
  const bodyType = typeof payload === 'object' && payload !== null ? (payload as { type?: unknown }).type : undefined;
  const type = headerType ?? (typeof bodyType === 'string' ? bodyType : 'unknown');
  return { channel, type, payload } as unknown as WebhookEvent;
}

// With the poisoning check switched off (tests only): strict UTF-8 and JSON as before, `__proto__` / `constructor` /
// `prototype` keys kept, so an open schema position (a Standard Webhooks `data` record) carries them to the sandbox.
function parseWithoutPoisonCheck(body: Uint8Array): ReturnType<typeof parseJsonBody> {
  try {
    return { ok: true, value: JSON.parse(strictDecoder.decode(body)) as unknown };
  } catch {
    return { ok: false, code: 'HTTP_BODY_MALFORMED', paths: ['(root)'] };
  }
}
