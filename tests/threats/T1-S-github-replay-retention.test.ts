// T1-S "Attacker forges channel webhook" by replaying a captured GitHub delivery — GitHub signs no timestamp, so the
// Defends: replay, github-replay-retention
// only defence against a replay is the replay claim on the body digest, and a claim lives only as long as its
// channel's retention. Mitigation: a per-channel retention (EdgePipelineOptions.untimedReplayRetentionSecByChannel,
// setting KARS_EDGE_GITHUB_REPLAY_RETENTION_SEC) whose GitHub default (8 days) outlives GitHub's own redelivery window
// (3 days on github.com, 7 on GHES), instead of the general 72 h. With GitHub held to the general 72 h (what the edge did
// before) a capture replayed on day 4 is delivered again. Residual, asserted below as it is: a capture older than the
// retention is accepted, because nothing signed says how old it is.
import { describe, expect, it } from 'vitest';
import { DEFAULT_GITHUB_REPLAY_RETENTION_SEC, DEFAULT_UNTIMED_REPLAY_RETENTION_SEC } from '../../core/edge/edge-types';
import { githubFixtures } from '../core/webhook/fixtures';
import { createEdgeFixture, edgeRequest, registerHook, SECRETS, signGithub, type EdgeFixtureOptions } from '../core/edge/edge-fixture';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const push = JSON.stringify(githubFixtures.push);

/** A GitHub hook that accepted one push; `replay(n)` re-sends the captured body under a fresh delivery id. */
async function acceptedCapture(options: EdgeFixtureOptions = {}) {
  const f = createEdgeFixture(options);
  const hook = await registerHook(f, 'github');
  const headers = await signGithub(SECRETS.github, 'delivery-original', 'push', push);
  expect(await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: hook.hookId, body: push, headers }))).toMatchObject({ status: 202 });
  let n = 0;
  const replay = async () => {
    n += 1;
    // X-GitHub-Delivery is not signed: the attacker relabels the capture; the body (and signature) stay as captured.
    return f.pipeline.handle(edgeRequest({ channel: 'github', hookId: hook.hookId, body: push, headers: { ...headers, 'x-github-delivery': `relabelled-${n}` } }));
  };
  return { f, replay };
}

describe('T1-S GitHub capture replayed after the general 72 h retention', () => {
  it('ON (GitHub default 8 d): the capture is 409 on day 4 and day 7.5, past GitHub\'s own redelivery window', async () => {
    const { f, replay } = await acceptedCapture();
    expect(DEFAULT_GITHUB_REPLAY_RETENTION_SEC * 1000).toBeGreaterThan(7 * DAY_MS);
    f.clock.advance(DEFAULT_UNTIMED_REPLAY_RETENTION_SEC * 1000 + HOUR_MS);
    expect(await replay(), 'step 5 must use untimedReplayRetentionSecByChannel[channel] (core/edge/guard-replay.ts)').toMatchObject({
      status: 409, code: 'WEBHOOK_REPLAY',
    });
    // Day 7.5: past GitHub Enterprise Server's 7-day redelivery window too.
    f.clock.advance(7 * DAY_MS + 12 * HOUR_MS - (DEFAULT_UNTIMED_REPLAY_RETENTION_SEC * 1000 + HOUR_MS));
    expect(await replay()).toMatchObject({ status: 409, code: 'WEBHOOK_REPLAY' });
    expect(f.queue.deliveries).toHaveLength(1);
  });

  it('OFF (GitHub held to the general 72 h): the same capture is delivered again on day 4', async () => {
    const { f, replay } = await acceptedCapture({ untimedReplayRetentionSecByChannel: { github: DEFAULT_UNTIMED_REPLAY_RETENTION_SEC } });
    f.clock.advance(DEFAULT_UNTIMED_REPLAY_RETENTION_SEC * 1000 + HOUR_MS);
    expect(await replay()).toMatchObject({ status: 202 });
    expect(f.queue.deliveries).toHaveLength(2);
  });

  it('an operator-set retention holds exactly that long; only GitHub gets it', async () => {
    const tenDaysSec = 10 * 86_400;
    const { f, replay } = await acceptedCapture({ untimedReplayRetentionSecByChannel: { github: tenDaysSec } });
    expect(f.pipeline.options.untimedReplayRetentionSecByChannel.teams).toBe(DEFAULT_UNTIMED_REPLAY_RETENTION_SEC);
    f.clock.advance(tenDaysSec * 1000 - 1000);
    expect(await replay()).toMatchObject({ status: 409 });
    expect(f.queue.deliveries).toHaveLength(1);
  });

  it('RESIDUAL: a capture older than the GitHub retention is accepted again (GitHub signs no time)', async () => {
    const { f, replay } = await acceptedCapture();
    f.clock.advance(DEFAULT_GITHUB_REPLAY_RETENTION_SEC * 1000 + 2000);
    expect(await replay()).toMatchObject({ status: 202 });
    // The new claim restarts the retention: a second copy right after is a replay again.
    expect(await replay()).toMatchObject({ status: 409 });
    expect(f.queue.deliveries).toHaveLength(2);
  });
});
