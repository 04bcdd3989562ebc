// Edge step "event-allowlist" (T1-E): a hook delivers only the event types its registration lists. A verified, well-formed event of
// another type is refused with 403 (authorisation, not syntax): the sender is genuine but not allowed to send it here.
import { isHandshake } from './event-name';
import type { EdgeContext, EdgeRejection } from './edge-types';

export function checkEventAllowed(ctx: EdgeContext): EdgeRejection | undefined {
  if (ctx.options.disabled.has('event-allowlist')) return undefined;
  const { event, eventName, hook } = ctx;
  if (event === undefined || eventName === undefined || hook === undefined) throw new TypeError('checkEventAllowed needs an event');
  if (isHandshake(event) || hook.registration.allowedEventTypes.includes(eventName)) return undefined;
  return { code: 'WEBHOOK_EVENT_NOT_ALLOWED', message: 'event type not allowed for this hook' };
}
