// Edge options with the seed's defaults; a bad value is a programming or configuration bug and throws at start-up.
import { DEFAULT_TOLERANCE_SEC } from '../webhook/types';
import { resolvePreAuthOptions } from './preauth-guard';
import {
  DEFAULT_MAX_BODY_BYTES, DEFAULT_UNTIMED_REPLAY_RETENTION_SEC, EDGE_MITIGATIONS, type EdgeMitigation, type EdgePipelineOptions,
  type ResolvedEdgeOptions,
} from './edge-types';

const MAX_BODY_BYTES_LIMIT = 64 * 1024 * 1024;
const MAX_TOLERANCE_SEC = 3600;

function intIn(value: number | undefined, def: number, min: number, max: number, name: string): number {
  const v = value ?? def;
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new RangeError(`"${name}" expected an integer in ${min}..${max}`);
  return v;
}

/** @throws {RangeError|TypeError} for an out-of-range number or an unknown mitigation name */
export function resolveEdgeOptions(options: EdgePipelineOptions = {}): ResolvedEdgeOptions {
  const toleranceSec = intIn(options.toleranceSec, DEFAULT_TOLERANCE_SEC, 1, MAX_TOLERANCE_SEC, 'toleranceSec');
  const disabled = new Set<EdgeMitigation>();
  for (const m of options._disable ?? []) {
    if (!(EDGE_MITIGATIONS as readonly string[]).includes(m)) throw new TypeError(`"_disable" has an unknown mitigation`);
    disabled.add(m);
  }
  return Object.freeze({
    maxBodyBytes: intIn(options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 1, MAX_BODY_BYTES_LIMIT, 'maxBodyBytes'),
    toleranceSec,
    // The claim must outlive the window in which the signed timestamp is still accepted.
    untimedReplayRetentionSec: intIn(options.untimedReplayRetentionSec, DEFAULT_UNTIMED_REPLAY_RETENTION_SEC, 2 * toleranceSec, 30 * 86400,
      'untimedReplayRetentionSec'),
    preAuthGuard: resolvePreAuthOptions(options.preAuthGuard),
    disabled,
  });
}
