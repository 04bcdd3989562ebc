// Requests the edge answers itself instead of enqueuing: GitHub's `ping` and Slack's `url_verification` handshake.
// Both arrive signed and are answered only after verification and schema validation.
import type { WebhookEvent } from './parse-event';

export interface ImmediateAnswer {
  readonly status: 200;
  readonly contentType: 'application/json';
  readonly body: string;
}

/**
 * The answer for a handshake event, or undefined for events that go to the sandbox queue.
 * - Slack `url_verification` → `{"challenge":"<challenge>"}` (Slack accepts the challenge as JSON);
 * - GitHub `ping` → `{"ok":true}` (GitHub only needs a 2xx).
 * @example const answer = immediateAnswerFor(event); if (answer) return { status: answer.status, body: answer.body };
 */
export function immediateAnswerFor(event: WebhookEvent): ImmediateAnswer | undefined {
  if (event.channel === 'slack' && event.type === 'url_verification') {
    return { status: 200, contentType: 'application/json', body: JSON.stringify({ challenge: event.payload.challenge }) };
  }
  if (event.channel === 'github' && event.type === 'ping') {
    return { status: 200, contentType: 'application/json', body: JSON.stringify({ ok: true }) };
  }
  return undefined;
}
