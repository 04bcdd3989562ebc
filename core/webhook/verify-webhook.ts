// Dispatches a request to its channel's verifier (T1-S): the single entry the edge pipeline's "signature" step calls.
import type { VerifyTeamsOptions } from './verify-teams';
import { verifyGithubWebhook } from './verify-github';
import { verifySlackWebhook } from './verify-slack';
import { verifyStandardWebhook } from './verify-standard';
import { verifyTeamsWebhook } from './verify-teams';
import { WEBHOOK_CHANNELS, type VerifyWebhookInput, type WebhookChannel, type WebhookVerifyResult } from './types';

/** Narrows the `{channel}` route segment (attacker-controlled) before anything else uses it. */
export function isWebhookChannel(value: unknown): value is WebhookChannel {
  return typeof value === 'string' && (WEBHOOK_CHANNELS as readonly string[]).includes(value);
}

/**
 * Verifies `input` with the verifier of `channel`. Same contract as the per-channel functions.
 * @throws {TypeError} for a channel that is not a {@link WebhookChannel} (check with {@link isWebhookChannel} first)
 */
export function verifyWebhook(channel: WebhookChannel, input: VerifyWebhookInput, options?: VerifyTeamsOptions): WebhookVerifyResult {
  switch (channel) {
    case 'standard':
      return verifyStandardWebhook(input, options);
    case 'github':
      return verifyGithubWebhook(input, options);
    case 'slack':
      return verifySlackWebhook(input, options);
    case 'teams':
      return verifyTeamsWebhook(input, options);
    default:
      throw new TypeError('"channel" expected one of standard, github, slack, teams');
  }
}
