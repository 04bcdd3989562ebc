import { describe, expect, it } from 'vitest';
import { immediateAnswerFor } from '../../../core/webhook/immediate-answer';
import { MAX_REPORTED_PATHS, parseEvent } from '../../../core/webhook/parse-event';
import { clone, githubFixtures, slackFixtures, standardFixture, teamsFixtures } from './fixtures';

describe('parseEvent: GitHub', () => {
  it.each(Object.keys(githubFixtures))('accepts a minimal %s payload and keeps extra fields', (type) => {
    const json = clone(githubFixtures[type as keyof typeof githubFixtures]);
    const result = parseEvent('github', type, json);
    expect(result).toMatchObject({ ok: true, event: { channel: 'github', type } });
    expect(result.ok && (result.event.payload as Record<string, unknown>).repository).toEqual(json.repository);
  });

  it.each([
    ['push', (j: Record<string, any>) => delete j.repository.full_name, 'repository.full_name'],
    ['push', (j: Record<string, any>) => (j.commits[0].id = 'not-a-sha'), 'commits.0.id'],
    ['push', (j: Record<string, any>) => (j.after = 'A'.repeat(40)), 'after'],
    ['issues', (j: Record<string, any>) => (j.issue.number = '1347'), 'issue.number'],
    ['issues', (j: Record<string, any>) => (j.action = 'Opened!'), 'action'],
    ['issue_comment', (j: Record<string, any>) => delete j.comment.body, 'comment.body'],
    ['pull_request', (j: Record<string, any>) => (j.pull_request.head.sha = 42), 'pull_request.head.sha'],
    ['ping', (j: Record<string, any>) => (j.hook_id = -1), 'hook_id'],
    ['push', (j: Record<string, any>) => (j.repository.full_name = 'no-slash'), 'repository.full_name'],
  ])('%s with a broken field → INPUT_INVALID naming %s', (type, mutate, path) => {
    const json = clone(githubFixtures[type as keyof typeof githubFixtures]);
    mutate(json);
    const result = parseEvent('github', type, json);
    expect(result).toEqual({ ok: false, code: 'INPUT_INVALID', paths: [path] });
  });

  it('names every failing path of a body with several errors', () => {
    const json = clone(githubFixtures.pull_request);
    delete json.sender;
    json.number = 0;
    const result = parseEvent('github', 'pull_request', json);
    expect(result.ok).toBe(false);
    expect(!result.ok && [...result.paths].sort()).toEqual(['number', 'sender']);
  });

  it('an event with no schema, or no event header → WEBHOOK_EVENT_UNSUPPORTED', () => {
    expect(parseEvent('github', 'deployment', clone(githubFixtures.push))).toEqual({ ok: false, code: 'WEBHOOK_EVENT_UNSUPPORTED', paths: [] });
    expect(parseEvent('github', undefined, clone(githubFixtures.push))).toEqual({ ok: false, code: 'WEBHOOK_EVENT_UNSUPPORTED', paths: [] });
    expect(parseEvent('github', '__proto__', clone(githubFixtures.push))).toEqual({ ok: false, code: 'WEBHOOK_EVENT_UNSUPPORTED', paths: [] });
  });

  it('an unsigned X-GitHub-Event that disagrees with the body fails the schema', () => {
    const result = parseEvent('github', 'push', clone(githubFixtures.issues));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.paths).toEqual(expect.arrayContaining(['ref', 'before', 'after', 'pusher', 'commits']));
  });
});

describe('parseEvent: Slack', () => {
  it('accepts url_verification, drops the verification token, and answers with the challenge', () => {
    const result = parseEvent('slack', undefined, clone(slackFixtures.url_verification));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.event.type).toBe('url_verification');
    expect('token' in result.event.payload).toBe(false);
    expect(immediateAnswerFor(result.event)).toEqual({
      status: 200, contentType: 'application/json', body: JSON.stringify({ challenge: slackFixtures.url_verification.challenge }),
    });
  });

  it('url_verification is strict: an extra key is named; a hostile key name is not echoed', () => {
    expect(parseEvent('slack', undefined, { ...clone(slackFixtures.url_verification), extra: 1 })).toEqual({ ok: false, code: 'INPUT_INVALID', paths: ['extra'] });
    const hostile = { ...clone(slackFixtures.url_verification), 'x\n<script>CANARY': 1 };
    expect(parseEvent('slack', undefined, hostile)).toEqual({ ok: false, code: 'INPUT_INVALID', paths: ['(unrecognized key)'] });
  });

  it.each([
    ['challenge with a space', (j: Record<string, any>) => (j.challenge = 'a b'), 'challenge'],
    ['challenge too long', (j: Record<string, any>) => (j.challenge = 'a'.repeat(513)), 'challenge'],
  ])('url_verification %s → INPUT_INVALID', (_n, mutate, path) => {
    const json = clone(slackFixtures.url_verification);
    mutate(json);
    expect(parseEvent('slack', undefined, json)).toEqual({ ok: false, code: 'INPUT_INVALID', paths: [path] });
  });

  it('accepts event_callback without the token and with the event intact; no immediate answer', () => {
    const result = parseEvent('slack', 'event_callback', clone(slackFixtures.event_callback));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect('token' in result.event.payload).toBe(false);
    expect((result.event.payload as { event: unknown }).event).toEqual(slackFixtures.event_callback.event);
    expect(immediateAnswerFor(result.event)).toBeUndefined();
  });

  it.each([
    [(j: Record<string, any>) => delete j.event.type, 'event.type'],
    [(j: Record<string, any>) => (j.event_time = 1.5), 'event_time'],
    [(j: Record<string, any>) => (j.team_id = 'T 1'), 'team_id'],
  ])('event_callback with a broken field → INPUT_INVALID (%#)', (mutate, path) => {
    const json = clone(slackFixtures.event_callback);
    mutate(json);
    expect(parseEvent('slack', undefined, json)).toEqual({ ok: false, code: 'INPUT_INVALID', paths: [path] });
  });

  it('an unknown body type → WEBHOOK_EVENT_UNSUPPORTED; a caller-expected type that disagrees → INPUT_INVALID at type', () => {
    expect(parseEvent('slack', undefined, { type: 'app_rate_limited' })).toEqual({ ok: false, code: 'WEBHOOK_EVENT_UNSUPPORTED', paths: [] });
    expect(parseEvent('slack', 'event_callback', clone(slackFixtures.url_verification))).toEqual({ ok: false, code: 'INPUT_INVALID', paths: ['type'] });
  });
});

describe('parseEvent: Teams and Standard Webhooks', () => {
  it('accepts a Teams message activity', () => {
    expect(parseEvent('teams', undefined, clone(teamsFixtures.message))).toMatchObject({ ok: true, event: { channel: 'teams', type: 'message' } });
  });
  it.each([
    [(j: Record<string, any>) => delete j.from.id, 'from.id'],
    [(j: Record<string, any>) => (j.timestamp = '2017-02-01 21:10:07'), 'timestamp'],
    [(j: Record<string, any>) => (j.id = 'a.b'), 'id'],
  ])('Teams activity with a broken field → INPUT_INVALID (%#)', (mutate, path) => {
    const json = clone(teamsFixtures.message);
    mutate(json);
    expect(parseEvent('teams', undefined, json)).toEqual({ ok: false, code: 'INPUT_INVALID', paths: [path] });
  });
  it('a Teams activity that is not a message → WEBHOOK_EVENT_UNSUPPORTED', () => {
    expect(parseEvent('teams', undefined, { ...clone(teamsFixtures.message), type: 'conversationUpdate' })).toEqual({
      ok: false, code: 'WEBHOOK_EVENT_UNSUPPORTED', paths: [],
    });
  });

  it('accepts the Standard Webhooks example envelope, typed by its own `type`', () => {
    expect(parseEvent('standard', undefined, clone(standardFixture))).toMatchObject({ ok: true, event: { channel: 'standard', type: 'contact.created' } });
  });
  it.each([
    ['an extra top-level key (strict envelope)', (j: Record<string, any>) => (j.extra = true), 'extra'],
    ['a non-ISO timestamp', (j: Record<string, any>) => (j.timestamp = 'yesterday'), 'timestamp'],
    ['data that is an array', (j: Record<string, any>) => (j.data = [1]), 'data'],
    ['a type with a space', (j: Record<string, any>) => (j.type = 'contact created'), 'type'],
    ['a type with an empty segment', (j: Record<string, any>) => (j.type = 'contact..created'), 'type'],
  ])('Standard envelope with %s → INPUT_INVALID', (_n, mutate, path) => {
    const json = clone(standardFixture);
    mutate(json);
    expect(parseEvent('standard', undefined, json)).toEqual({ ok: false, code: 'INPUT_INVALID', paths: [path] });
  });
});

describe('parseEvent: hostile JSON values', () => {
  it.each([null, 42, 'str', true, [], [githubFixtures.push]])('body %j → INPUT_INVALID at (root) or type', (json) => {
    for (const channel of ['slack', 'teams', 'standard'] as const) {
      const result = parseEvent(channel, undefined, json);
      expect(result).toMatchObject({ ok: false, code: 'INPUT_INVALID' });
      expect(!result.ok && result.paths).toEqual(['(root)']);
    }
    expect(parseEvent('github', 'push', json)).toEqual({ ok: false, code: 'INPUT_INVALID', paths: ['(root)'] });
  });

  it('bounds the number of reported paths', () => {
    const json = clone(standardFixture);
    for (let i = 0; i < 50; i += 1) json[`k${i}`] = i;
    const result = parseEvent('standard', undefined, json);
    expect(!result.ok && result.paths.length).toBe(MAX_REPORTED_PATHS + 1);
    expect(!result.ok && result.paths.at(-1)).toBe('(more)');
  });
});

describe('immediateAnswerFor', () => {
  it('answers GitHub ping and nothing else from GitHub', () => {
    const ping = parseEvent('github', 'ping', clone(githubFixtures.ping));
    const push = parseEvent('github', 'push', clone(githubFixtures.push));
    expect(ping.ok && immediateAnswerFor(ping.event)).toEqual({ status: 200, contentType: 'application/json', body: '{"ok":true}' });
    expect(push.ok && immediateAnswerFor(push.event)).toBeUndefined();
  });
});
