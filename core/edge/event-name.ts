// The name a hook's `allowedEventTypes` is matched against (T1-E), and which events are protocol handshakes.
import type { WebhookEvent } from '../webhook/parse-event';

/**
 * - github: the X-GitHub-Event name (`push`, `issues`, `ping`);
 * - slack: the inner event type of an `event_callback` (`message`, `app_mention`), or `url_verification`;
 * - teams: `message`;
 * - standard: the envelope `type` (`invoice.paid`).
 */
export function eventNameOf(event: WebhookEvent): string {
  if (event.channel === 'slack' && event.type === 'event_callback') {
    // The schema guarantees `event.type` (a lower-case name); the Omit<> in WebhookEvent loses its static type.
    const inner = (event.payload as { event?: { type?: unknown } }).event?.type;
    return typeof inner === 'string' ? inner : event.type;
  }
  return event.type;
}

/**
 * GitHub `ping` and Slack `url_verification` set up the endpoint and carry no work for a sandbox: they are answered by
 * the edge and never need to be in `allowedEventTypes`.
 */
export function isHandshake(event: Pick<WebhookEvent, 'channel' | 'type'>): boolean {
  return (event.channel === 'github' && event.type === 'ping') || (event.channel === 'slack' && event.type === 'url_verification');
}
