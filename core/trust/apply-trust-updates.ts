// T4-E: the pure step of the applier: a projection plus one subject's admitted updates (in session order) gives the
// next projection version. Signals move a score by a clamped delta from its decayed value (a new peer starts at its
// effective score, never above the bootstrap cap); edges set an endorsement weight (0 removes it).
import { applySignal } from './apply-signal';
import { effectiveTrust } from './transitive-trust';
import { mitigationOn, type TrustPolicy } from './trust-policy';
import type { TrustEdge, TrustGraphProjection, TrustScoreEntry } from './trust-graph';
import type { TrustPayload } from './trust-update';

/** How many applied nonces a projection remembers (redeliveries come within minutes, not after 4096 updates). */
export const APPLIED_NONCE_MEMORY = 4096;

export interface ApplyResult {
  readonly graph: TrustGraphProjection;
  readonly appliedNonces: readonly string[];
  /** Updates applied now (a redelivered update is skipped). */
  readonly applied: number;
}

/** The applied-nonce key of an update: nonces are unique per issuer. */
export const appliedNonceKey = (p: TrustPayload): string => `${p.issuer}:${p.nonce}`;

export function applyTrustUpdates(
  graph: TrustGraphProjection, appliedNonces: readonly string[], payloads: readonly TrustPayload[], policy: TrustPolicy,
): ApplyResult {
  const seen = new Set(appliedNonces);
  const scores = new Map(graph.scores.map((s) => [`${s.observer}\n${s.subject}`, s]));
  const edges = new Map(graph.edges.map((e) => [`${e.from}\n${e.to}`, e]));
  const nonces = [...appliedNonces];
  let applied = 0;
  for (const p of payloads) {
    const key = appliedNonceKey(p);
    if (seen.has(key)) continue;
    seen.add(key);
    nonces.push(key);
    applied += 1;
    const atMs = p.issuedAtSec * 1000;
    const u = p.update;
    if (u.type === 'signal') {
      const id = `${u.observer}\n${u.subject}`;
      const prev = scores.get(id);
      let start = 0;
      if (!prev) {
        const current = { tenantId: graph.tenantId, version: graph.version, scores: [...scores.values()], edges: [...edges.values()] };
        start = effectiveTrust(current, u.observer, u.subject, atMs, policy).score;
        if (mitigationOn(policy, 'bootstrap-cap')) start = Math.min(start, policy.bootstrapCap);
      }
      const next = applySignal(prev, start, { kind: u.kind, delta: u.delta, atMs }, policy);
      scores.set(id, { observer: u.observer, subject: u.subject, score: next.score, atMs: next.atMs } satisfies TrustScoreEntry);
    } else {
      const id = `${u.from}\n${u.to}`;
      if (u.weight === 0) edges.delete(id);
      else edges.set(id, { from: u.from, to: u.to, weight: u.weight, atMs } satisfies TrustEdge);
    }
  }
  if (applied === 0) return { graph, appliedNonces, applied };
  return {
    graph: { tenantId: graph.tenantId, version: graph.version + 1, scores: [...scores.values()], edges: [...edges.values()] },
    appliedNonces: nonces.slice(-APPLIED_NONCE_MEMORY),
    applied,
  };
}
