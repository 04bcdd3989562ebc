// The edge pipeline's "schema" step (T1-T): a verified JSON body becomes a typed event, or INPUT_INVALID naming the failing
// field paths. Paths name schema positions only; attacker-chosen key names are never echoed.
import type { z } from 'zod';
import {
  GITHUB_EVENT_SCHEMAS,
  type GithubIssueComment,
  type GithubIssues,
  type GithubPing,
  type GithubPullRequest,
  type GithubPush,
} from './schema-github';
import { SLACK_EVENT_SCHEMAS, type SlackEventCallback, type SlackUrlVerification } from './schema-slack';
import { standardEnvelopeSchema, type StandardEnvelope } from './schema-standard';
import { TEAMS_EVENT_SCHEMAS, type TeamsMessage } from './schema-teams';
import type { WebhookChannel } from './types';

export type WebhookEvent =
  | { channel: 'github'; type: 'ping'; payload: GithubPing }
  | { channel: 'github'; type: 'push'; payload: GithubPush }
  | { channel: 'github'; type: 'issues'; payload: GithubIssues }
  | { channel: 'github'; type: 'issue_comment'; payload: GithubIssueComment }
  | { channel: 'github'; type: 'pull_request'; payload: GithubPullRequest }
  | { channel: 'slack'; type: 'url_verification'; payload: Omit<SlackUrlVerification, 'token'> }
  | { channel: 'slack'; type: 'event_callback'; payload: Omit<SlackEventCallback, 'token'> }
  | { channel: 'teams'; type: 'message'; payload: TeamsMessage }
  | { channel: 'standard'; type: string; payload: StandardEnvelope };

export type ParseEventResult =
  | { ok: true; event: WebhookEvent }
  | { ok: false; code: 'INPUT_INVALID'; paths: string[] }
  | { ok: false; code: 'WEBHOOK_EVENT_UNSUPPORTED'; paths: string[] };

/** At most this many failing paths are reported; the rest are summarised as `(more)`. */
export const MAX_REPORTED_PATHS = 20;

/**
 * Validates a parsed JSON body against the schema for (channel, event type).
 * - `github`: `eventType` is the X-GitHub-Event header (required; the body does not name its type).
 * - `slack`, `teams`, `standard`: the type is read from the body's `type`; if `eventType` is given as well it must be
 *   equal, else INPUT_INVALID at `type`.
 * Slack's deprecated verification `token` is removed from the payload: it is a credential and must not reach a sandbox.
 *
 * @param channel the verified channel
 * @param eventType GitHub's X-GitHub-Event, or undefined / the expected body type for the other channels
 * @param json the value from `parseJsonBody`
 * @returns the typed event; INPUT_INVALID with dotted paths (`repository.full_name`, `commits.0.id`, `(root)`);
 *   or WEBHOOK_EVENT_UNSUPPORTED (paths `[]`) for a type with no schema here
 * @example parseEvent('github', verified.eventType, json)
 */
export function parseEvent(channel: WebhookChannel, eventType: string | undefined, json: unknown): ParseEventResult {
  switch (channel) {
    case 'github': {
      if (eventType === undefined || !Object.hasOwn(GITHUB_EVENT_SCHEMAS, eventType)) return unsupported();
      const type = eventType as keyof typeof GITHUB_EVENT_SCHEMAS;
      const parsed = GITHUB_EVENT_SCHEMAS[type].safeParse(json);
      if (!parsed.success) return invalid(parsed.error);
      return { ok: true, event: { channel, type, payload: parsed.data } as WebhookEvent };
    }
    case 'slack': {
      const type = bodyType(json, eventType);
      if (!type.ok) return type;
      if (!Object.hasOwn(SLACK_EVENT_SCHEMAS, type.value)) return unsupported();
      const key = type.value as keyof typeof SLACK_EVENT_SCHEMAS;
      const parsed = SLACK_EVENT_SCHEMAS[key].safeParse(json);
      if (!parsed.success) return invalid(parsed.error);
      const { token: _dropped, ...payload } = parsed.data;
      return { ok: true, event: { channel, type: key, payload } as WebhookEvent };
    }
    case 'teams': {
      const type = bodyType(json, eventType);
      if (!type.ok) return type;
      if (!Object.hasOwn(TEAMS_EVENT_SCHEMAS, type.value)) return unsupported();
      const parsed = TEAMS_EVENT_SCHEMAS.message.safeParse(json);
      if (!parsed.success) return invalid(parsed.error);
      return { ok: true, event: { channel, type: 'message', payload: parsed.data } };
    }
    case 'standard': {
      const type = bodyType(json, eventType);
      if (!type.ok) return type;
      const parsed = standardEnvelopeSchema.safeParse(json);
      if (!parsed.success) return invalid(parsed.error);
      return { ok: true, event: { channel, type: parsed.data.type, payload: parsed.data } };
    }
    default:
      return unsupported();
  }
}

function bodyType(
  json: unknown,
  expected: string | undefined,
): { ok: true; value: string } | { ok: false; code: 'INPUT_INVALID'; paths: string[] } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, code: 'INPUT_INVALID', paths: ['(root)'] };
  const type = (json as { type?: unknown }).type;
  if (typeof type !== 'string' || (expected !== undefined && type !== expected)) {
    return { ok: false, code: 'INPUT_INVALID', paths: ['type'] };
  }
  return { ok: true, value: type };
}

const unsupported = (): { ok: false; code: 'WEBHOOK_EVENT_UNSUPPORTED'; paths: string[] } =>
  ({ ok: false, code: 'WEBHOOK_EVENT_UNSUPPORTED', paths: [] });

const SAFE_SEGMENT_RE = /^[A-Za-z0-9_]{1,64}$/;

/** Dotted failing paths, deduplicated and bounded. Unknown keys are reported by name only if they look like a field. */
export function issuePaths(error: z.ZodError): string[] {
  const paths = new Set<string>();
  for (const issue of error.issues) {
    const base = issue.path.map(segment).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) paths.add(joinPath(base, SAFE_SEGMENT_RE.test(key) ? key : '(unrecognized key)'));
    } else {
      paths.add(base === '' ? '(root)' : base);
    }
  }
  const list = [...paths];
  return list.length > MAX_REPORTED_PATHS ? [...list.slice(0, MAX_REPORTED_PATHS), '(more)'] : list;
}

function segment(part: PropertyKey): string {
  if (typeof part === 'number') return String(part);
  return typeof part === 'string' && SAFE_SEGMENT_RE.test(part) ? part : '(key)';
}

const joinPath = (base: string, key: string): string => (base === '' ? key : `${base}.${key}`);

const invalid = (error: z.ZodError): { ok: false; code: 'INPUT_INVALID'; paths: string[] } =>
  ({ ok: false, code: 'INPUT_INVALID', paths: issuePaths(error) });
