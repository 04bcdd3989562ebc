// zod schemas for Slack Events API bodies (T1-T): the url_verification handshake (strict: Slack documents exactly
// three fields) and event_callback envelopes (loose: Slack adds envelope fields over time).
import { z } from 'zod';

const slackId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
// Message timestamps: "1515449522.000016"; Slack's own examples also show event_ts without the dot.
const slackTs = z.string().regex(/^\d{1,20}(?:\.\d{1,9})?$/);

export const slackUrlVerificationSchema = z.strictObject({
  // Deprecated verification token; parseEvent drops it before the event leaves the edge.
  token: z.string().max(256),
  // Echoed back in the answer: printable ASCII only, bounded.
  challenge: z.string().regex(/^[\x21-\x7e]{1,512}$/),
  type: z.literal('url_verification'),
});

export const slackEventCallbackSchema = z.looseObject({
  type: z.literal('event_callback'),
  token: z.string().max(256).optional(),
  team_id: slackId,
  api_app_id: slackId,
  event_id: slackId,
  event_time: z.number().int().nonnegative(),
  event: z.looseObject({
    type: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/),
    user: slackId.optional(),
    channel: slackId.optional(),
    text: z.string().max(262_144).optional(),
    ts: slackTs.optional(),
    event_ts: slackTs.optional(),
  }),
});

export const SLACK_EVENT_SCHEMAS = {
  url_verification: slackUrlVerificationSchema,
  event_callback: slackEventCallbackSchema,
} as const;

export type SlackEventType = keyof typeof SLACK_EVENT_SCHEMAS;
export type SlackUrlVerification = z.infer<typeof slackUrlVerificationSchema>;
export type SlackEventCallback = z.infer<typeof slackEventCallbackSchema>;
