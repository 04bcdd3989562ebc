// T4-E "compromised peer escalates trust": what endorsement chains may add. A path starts with the observer's own
// (decayed) score of a DID and continues along signed endorsement edges; it counts only up to maxPathLength hops, it
// is worth at most its weakest hop, attenuated per endorsement hop, and never more than the bootstrap cap. Sybil
// endorsements therefore add nothing beyond the observer's trust in the endorser (the "trust washing" of AGT §9).
import { decayScore } from './score-math';
import { mitigationOn, type TrustPolicy } from './trust-policy';
import { indexTrustGraph, type TrustGraphIndex, type TrustGraphProjection } from './trust-graph';

export interface TrustPath {
  /** observer, then each DID along the path; the last is the subject. */
  readonly nodes: readonly string[];
  /** Value of each hop: the observer's decayed score, then each edge weight. */
  readonly hops: readonly number[];
  readonly value: number;
}

export interface EffectiveTrust {
  readonly score: number;
  readonly source: 'direct' | 'transitive' | 'unknown';
  /** The direct score as a one-hop path, or the best transitive paths (best first, at most maxPathsShown). */
  readonly paths: readonly TrustPath[];
}

/** Paths examined per lookup: bounds the work a dense (or sybil-inflated) graph can cause. */
export const MAX_PATHS_EXAMINED = 10_000;
export const MAX_PATHS_SHOWN = 5;
// With the length mitigation off (attack tests only) chains still end somewhere.
const UNBOUNDED_PATH_LENGTH = 16;

/** The value of one path under the policy's caps. */
export function pathValue(hops: readonly number[], policy: TrustPolicy): number {
  if (hops.length === 0) return 0;
  let v: number;
  if (mitigationOn(policy, 'weakest-edge')) {
    v = Math.min(...hops);
    for (let i = 1; i < hops.length; i += 1) v = Math.floor((v * policy.attenuationPermille) / 1000);
  } else {
    // Without the mitigation the last endorser's claim is taken at face value.
    v = hops[hops.length - 1]!;
  }
  if (hops.length > 1 && mitigationOn(policy, 'bootstrap-cap')) v = Math.min(v, policy.bootstrapCap);
  return v;
}

/**
 * The observer's effective trust in `subject` at `nowMs`: its own score if it has one (decayed), else the best
 * endorsement path if that beats the unknown score, else the unknown score. Endorsements only ever lift a stranger,
 * and never above the bootstrap cap; negative experience comes from the observer's own signals.
 */
export function effectiveTrust(
  graph: TrustGraphProjection | TrustGraphIndex, observer: string, subject: string, nowMs: number, policy: TrustPolicy,
): EffectiveTrust {
  const index = 'version' in graph ? indexTrustGraph(graph) : graph;
  const own = index.scores.get(observer)?.get(subject);
  if (own) {
    const score = decayScore(own.score, nowMs - own.atMs, policy);
    return { score, source: 'direct', paths: [{ nodes: [observer, subject], hops: [score], value: score }] };
  }
  const paths = transitivePaths(index, observer, subject, nowMs, policy);
  const best = paths[0];
  const unknown = mitigationOn(policy, 'bootstrap-cap') ? Math.min(policy.unknownScore, policy.bootstrapCap) : policy.unknownScore;
  if (best && best.value > unknown) return { score: best.value, source: 'transitive', paths };
  return { score: unknown, source: 'unknown', paths };
}

/** Simple paths (no DID twice) of 2..maxPathLength hops from observer to subject, best value first. */
export function transitivePaths(
  index: TrustGraphIndex, observer: string, subject: string, nowMs: number, policy: TrustPolicy,
): TrustPath[] {
  const maxHops = mitigationOn(policy, 'path-length') ? policy.maxPathLength : UNBOUNDED_PATH_LENGTH;
  const found: TrustPath[] = [];
  let examined = 0;
  const walk = (node: string, nodes: string[], hops: number[]): void => {
    if (hops.length >= maxHops || examined >= MAX_PATHS_EXAMINED) return;
    for (const e of index.edges.get(node) ?? []) {
      examined += 1;
      if (examined > MAX_PATHS_EXAMINED) return;
      if (e.weight <= 0 || nodes.includes(e.to) || e.to === observer) continue;
      const nextNodes = [...nodes, e.to];
      const nextHops = [...hops, e.weight];
      if (e.to === subject) found.push({ nodes: nextNodes, hops: nextHops, value: pathValue(nextHops, policy) });
      else walk(e.to, nextNodes, nextHops);
    }
  };
  for (const own of index.scores.get(observer)?.values() ?? []) {
    if (own.subject === subject) continue;
    const first = decayScore(own.score, nowMs - own.atMs, policy);
    if (first > 0) walk(own.subject, [observer, own.subject], [first]);
  }
  found.sort((a, b) => b.value - a.value || a.hops.length - b.hops.length);
  return found.slice(0, MAX_PATHS_SHOWN);
}
