// Edge step "signature" (T1-S): the hook's registration supplies the channel and the active secrets; the channel's verifier checks the
// signature and timestamp over the raw bytes. Every failure, an unknown hook id included, becomes one generic 401;
// the precise code goes to the receipt only.
import { sha256Hex } from '../crypto/sha256-hex';
import { bytesToBase64 } from '../crypto/strict-encoding';
import { redact, type Redacted } from '../secrets/redacted';
import { isSafeDeliveryId, isSafeEventName } from '../webhook/header-values';
import type { WebhookChannel, WebhookVerified } from '../webhook/types';
import { verifyWebhook } from '../webhook/verify-webhook';
import type { EdgeContext, EdgeRejection } from './edge-types';

// Well-formed secrets no registration uses: an unknown hook costs the same MAC work as a known one, so response time
// does not tell which hook ids exist.
const DECOY_KEY_B64 = bytesToBase64(new Uint8Array(32).fill(0x6b));
const DECOY_SECRETS: Readonly<Record<WebhookChannel, Redacted<string>>> = {
  standard: redact(`whsec_${DECOY_KEY_B64}`),
  github: redact('kars-decoy-secret'),
  slack: redact('kars-decoy-secret'),
  teams: redact(DECOY_KEY_B64),
};

/** Largest tolerance the verifiers accept: how the `timestamp` switch is turned off in tests. */
const NO_TIMESTAMP_CHECK_SEC = Number.MAX_SAFE_INTEGER;

export const GENERIC_AUTH_MESSAGE = 'webhook verification failed';

export async function authenticateWebhook(ctx: EdgeContext): Promise<EdgeRejection | undefined> {
  const channel = ctx.channel;
  const body = ctx.body;
  if (channel === undefined || body === undefined) throw new TypeError('authenticateWebhook needs channel and body');
  const hook = ctx.hookId === undefined ? undefined : await ctx.deps.registry.lookup(ctx.hookId, ctx.nowMs, { abortSignal: ctx.request.abortSignal });
  if (hook !== undefined) ctx.tenantId = hook.registration.tenantId;

  const decoy = (): void => {
    verifyWebhook(channel, { body, header: ctx.request.header, secrets: [DECOY_SECRETS[channel]], nowMs: ctx.nowMs });
  };
  if (hook === undefined) {
    decoy();
    return { code: 'WEBHOOK_HOOK_UNKNOWN', message: GENERIC_AUTH_MESSAGE };
  }
  ctx.hook = hook;
  if (hook.registration.channel !== channel) {
    decoy();
    return { code: 'WEBHOOK_CHANNEL_MISMATCH', message: GENERIC_AUTH_MESSAGE };
  }
  if (ctx.options.disabled.has('signature')) {
    ctx.verified = unverified(channel, body, ctx);
    return undefined;
  }
  if (hook.secrets.length === 0) {
    decoy();
    return { code: 'WEBHOOK_SECRET_INVALID', message: GENERIC_AUTH_MESSAGE };
  }
  const toleranceSec = ctx.options.disabled.has('timestamp') ? NO_TIMESTAMP_CHECK_SEC : ctx.options.toleranceSec;
  // The body digest of the "body" step is reused (GitHub's replay key is that digest): one SHA-256 pass over the body.
  const input = { body, header: ctx.request.header, secrets: hook.secrets, nowMs: ctx.nowMs, bodySha256Hex: ctx.bodyDigest };
  const result = verifyWebhook(channel, input, { toleranceSec });
  if (!result.ok) return { code: result.code, message: GENERIC_AUTH_MESSAGE };
  ctx.verified = result;
  return undefined;
}

// With the signature switched off (tests only), the delivery identity comes from unauthenticated headers, which is
// exactly what a forger controls.
function unverified(channel: WebhookChannel, body: Uint8Array, ctx: EdgeContext): WebhookVerified {
  const header = ctx.request.header;
  const claimed = header('webhook-id') ?? header('x-github-delivery');
  const deliveryId = isSafeDeliveryId(claimed) ? claimed : `unverified-${sha256Hex(body).slice(0, 32)}`;
  const eventType = header('x-github-event');
  const out: WebhookVerified = { ok: true, channel, deliveryId, replayKey: `${channel}:unverified:${deliveryId}`, secretIndex: -1 };
  return isSafeEventName(eventType) ? { ...out, eventType } : out;
}
