// zod schema for the Bot Framework `message` activity a Teams outgoing webhook posts (T1-T). Loose: activities carry
// many optional fields (entities, channelData, localTimestamp…) that vary by client.
import { z } from 'zod';

const isoTimestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/);
const account = z.looseObject({
  id: z.string().min(1).max(512),
  name: z.string().max(512).optional(),
  aadObjectId: z.string().max(64).optional(),
});

export const teamsMessageSchema = z.looseObject({
  type: z.literal('message'),
  id: z.string().regex(/^[A-Za-z0-9_\-:+/=@]{1,256}$/),
  timestamp: isoTimestamp,
  text: z.string().max(262_144),
  from: account,
  conversation: z.looseObject({ id: z.string().min(1).max(1024) }),
  channelId: z.string().max(64).optional(),
  serviceUrl: z.string().max(2048).optional(),
  recipient: account.nullable().optional(),
  channelData: z.looseObject({ tenant: z.looseObject({ id: z.string().max(64) }).optional() }).optional(),
});

export const TEAMS_EVENT_SCHEMAS = { message: teamsMessageSchema } as const;

export type TeamsEventType = keyof typeof TEAMS_EVENT_SCHEMAS;
export type TeamsMessage = z.infer<typeof teamsMessageSchema>;
