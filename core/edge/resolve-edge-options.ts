// Edge options with their defaults (edge-types.ts: T1-T body cap, webhook tolerance); a bad value is a programming or configuration bug and throws at start-up.
import { DEFAULT_TOLERANCE_SEC, WEBHOOK_CHANNELS, type WebhookChannel } from '../webhook/types';
import { aintIn } from '../crypto/assert';
import { resolvePreAuthOptions } from './preauth-guard';
import {
  DEFAULT_GITHUB_REPLAY_RETENTION_SEC, DEFAULT_MAX_BODY_BYTES, DEFAULT_UNTIMED_REPLAY_RETENTION_SEC, EDGE_MITIGATIONS,
  type EdgeMitigation, type EdgePipelineOptions, type ResolvedEdgeOptions,
} from './edge-types';

const MAX_BODY_BYTES_LIMIT = 64 * 1024 * 1024;
const MAX_TOLERANCE_SEC = 3600;
const MAX_REPLAY_RETENTION_SEC = 30 * 86400;

/** @throws {RangeError|TypeError} for an out-of-range number or an unknown mitigation name */
export function resolveEdgeOptions(options: EdgePipelineOptions = {}): ResolvedEdgeOptions {
  const toleranceSec = aintIn(options.toleranceSec ?? DEFAULT_TOLERANCE_SEC, 1, MAX_TOLERANCE_SEC, 'toleranceSec');
  const disabled = new Set<EdgeMitigation>();
  for (const m of options._disable ?? []) {
    if (!(EDGE_MITIGATIONS as readonly string[]).includes(m)) throw new TypeError(`"_disable" has an unknown mitigation`);
    disabled.add(m);
  }
  // The claim must outlive the window in which the signed timestamp is still accepted.
  const untimedReplayRetentionSec = aintIn(options.untimedReplayRetentionSec ?? DEFAULT_UNTIMED_REPLAY_RETENTION_SEC, 2 * toleranceSec,
    MAX_REPLAY_RETENTION_SEC, 'untimedReplayRetentionSec');
  const byChannel = options.untimedReplayRetentionSecByChannel ?? {};
  for (const key of Object.keys(byChannel)) {
    if (!(WEBHOOK_CHANNELS as readonly string[]).includes(key)) throw new TypeError('"untimedReplayRetentionSecByChannel" has an unknown channel');
  }
  const untimedReplayRetentionSecByChannel = Object.freeze(Object.fromEntries(WEBHOOK_CHANNELS.map((channel) => [
    channel,
    aintIn(byChannel[channel] ?? (channel === 'github' ? DEFAULT_GITHUB_REPLAY_RETENTION_SEC : untimedReplayRetentionSec), 2 * toleranceSec,
      MAX_REPLAY_RETENTION_SEC, `untimedReplayRetentionSecByChannel.${channel}`),
  ])) as Record<WebhookChannel, number>);
  return Object.freeze({
    maxBodyBytes: aintIn(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, 1, MAX_BODY_BYTES_LIMIT, 'maxBodyBytes'),
    toleranceSec,
    untimedReplayRetentionSec,
    untimedReplayRetentionSecByChannel,
    preAuthGuard: resolvePreAuthOptions(options.preAuthGuard),
    disabled,
  });
}
