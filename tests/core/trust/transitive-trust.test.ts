// T4-E: endorsement chains are capped — path length, attenuation per hop, the weakest hop, the bootstrap cap — and
// monotone: more or stronger endorsements never lower a score. Random graphs, fixed seed (npm run fuzz explores).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { effectiveTrust, pathValue } from '../../../core/trust/transitive-trust';
import type { TrustEdge, TrustGraphProjection, TrustScoreEntry } from '../../../core/trust/trust-graph';
import { DEFAULT_TRUST_POLICY as P, resolveTrustPolicy } from '../../../core/trust/trust-policy';
import { assertProperty } from '../../support/property';

const DIDS = ['did:web:a', 'did:web:b', 'did:web:c', 'did:web:d', 'did:web:e', 'did:web:f'];
const OBS = 'sandbox-1';
const NOW = 0;

const graph = (scores: TrustScoreEntry[], edges: TrustEdge[]): TrustGraphProjection => ({ tenantId: 't', version: 1, scores, edges });
const scoreArb = fc.record({ observer: fc.constant(OBS), subject: fc.constantFrom(...DIDS), score: fc.integer({ min: 0, max: 1000 }), atMs: fc.constant(NOW) });
const edgeArb = fc.record({ from: fc.constantFrom(...DIDS), to: fc.constantFrom(...DIDS), weight: fc.integer({ min: 1, max: 1000 }), atMs: fc.constant(NOW) })
  .filter((e) => e.from !== e.to);
const dedupe = <T>(items: T[], key: (t: T) => string): T[] => [...new Map(items.map((i) => [key(i), i])).values()];
const graphArb = fc.record({
  scores: fc.array(scoreArb, { maxLength: 4 }).map((s) => dedupe(s, (x) => x.subject)),
  edges: fc.array(edgeArb, { maxLength: 14 }).map((e) => dedupe(e, (x) => `${x.from}>${x.to}`)),
});

describe('transitive trust', () => {
  it('a stranger reached only by endorsements never exceeds the bootstrap cap, nor any path its weakest hop', () => {
    assertProperty(fc.property(graphArb, fc.constantFrom(...DIDS), ({ scores, edges }, subject) => {
      const g = graph(scores.filter((s) => s.subject !== subject), edges);
      const t = effectiveTrust(g, OBS, subject, NOW, P);
      expect(t.score).toBeLessThanOrEqual(P.bootstrapCap);
      expect(t.source).not.toBe('direct');
      for (const p of t.paths) {
        expect(p.hops.length).toBeGreaterThanOrEqual(2);
        expect(p.hops.length).toBeLessThanOrEqual(P.maxPathLength);
        expect(p.value).toBeLessThanOrEqual(Math.min(...p.hops));
        expect(p.nodes[p.nodes.length - 1]).toBe(subject);
      }
    }));
  });

  it('is monotone: adding an endorsement edge or raising a weight never lowers a stranger\'s score', () => {
    assertProperty(fc.property(graphArb, edgeArb, fc.constantFrom(...DIDS), ({ scores, edges }, extra, subject) => {
      const s = scores.filter((x) => x.subject !== subject);
      const before = effectiveTrust(graph(s, edges), OBS, subject, NOW, P).score;
      const existing = edges.find((e) => e.from === extra.from && e.to === extra.to);
      const raised = existing
        ? edges.map((e) => (e === existing ? { ...e, weight: Math.max(e.weight, extra.weight) } : e))
        : [...edges, extra];
      expect(effectiveTrust(graph(s, raised), OBS, subject, NOW, P).score).toBeGreaterThanOrEqual(before);
    }));
  });

  it('pathValue: attenuated per endorsement hop, never above its weakest hop or (beyond one hop) the cap', () => {
    assertProperty(fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 6 }), (hops) => {
      const v = pathValue(hops, P);
      expect(v).toBeLessThanOrEqual(Math.min(...hops));
      if (hops.length > 1) expect(v).toBeLessThanOrEqual(P.bootstrapCap);
      // Even a perfect extra endorsement makes a path longer, and a longer path is never worth more.
      expect(pathValue([...hops, 1000], P)).toBeLessThanOrEqual(v);
    }));
  });

  it('worked numbers: observer 900 → a, a endorses b at 800: 700‰ of 800 = 560, capped at 500; one more hop 392', () => {
    const g = graph(
      [{ observer: OBS, subject: 'did:web:a', score: 900, atMs: NOW }],
      [{ from: 'did:web:a', to: 'did:web:b', weight: 800, atMs: NOW }, { from: 'did:web:b', to: 'did:web:c', weight: 1000, atMs: NOW },
        { from: 'did:web:c', to: 'did:web:d', weight: 1000, atMs: NOW }],
    );
    expect(effectiveTrust(g, OBS, 'did:web:b', NOW, P)).toMatchObject({ score: 500, source: 'transitive' });
    expect(effectiveTrust(g, OBS, 'did:web:c', NOW, P)).toMatchObject({ score: 392, source: 'transitive' });
    // Four hops: beyond maxPathLength 3, so the unknown score.
    expect(effectiveTrust(g, OBS, 'did:web:d', NOW, P)).toMatchObject({ score: 300, source: 'unknown', paths: [] });
    expect(effectiveTrust(g, OBS, 'did:web:a', NOW, P)).toMatchObject({ score: 900, source: 'direct' });
  });

  it('the observer\'s own score wins over endorsements, so they cannot wash away its distrust', () => {
    const g = graph(
      [{ observer: OBS, subject: 'did:web:a', score: 900, atMs: NOW }, { observer: OBS, subject: 'did:web:b', score: 50, atMs: NOW }],
      [{ from: 'did:web:a', to: 'did:web:b', weight: 1000, atMs: NOW }],
    );
    expect(effectiveTrust(g, OBS, 'did:web:b', NOW, P)).toMatchObject({ score: 50, source: 'direct' });
  });

  it('with the caps switched off the same chain reaches the endorser\'s claim (the properties have teeth)', () => {
    const off = resolveTrustPolicy({ _disable: ['bootstrap-cap', 'weakest-edge', 'path-length'] });
    const g = graph(
      [{ observer: OBS, subject: 'did:web:a', score: 310, atMs: NOW }],
      [{ from: 'did:web:a', to: 'did:web:b', weight: 1000, atMs: NOW }, { from: 'did:web:b', to: 'did:web:c', weight: 1000, atMs: NOW },
        { from: 'did:web:c', to: 'did:web:d', weight: 1000, atMs: NOW }],
    );
    expect(effectiveTrust(g, OBS, 'did:web:d', NOW, off).score).toBe(1000);
    expect(effectiveTrust(g, OBS, 'did:web:d', NOW, P).score).toBe(300);
  });
});
