// The trust graph layout: deterministic, inside the drawing, and linked nodes end closer than unlinked ones.
import { describe, expect, it } from 'vitest';
import { forceLayout } from '../../../core/console/force-layout';

describe('forceLayout', () => {
  const nodes = ['a', 'b', 'c', 'd', 'e', 'f'];
  const edges = [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'a', to: 'c' }, { from: 'd', to: 'e' }, { from: 'e', to: 'f' }, { from: 'd', to: 'f' }];
  const size = { width: 600, height: 400 };

  it('is deterministic and stays inside the drawing', () => {
    const one = forceLayout(nodes, edges, size);
    expect(forceLayout(nodes, edges, size)).toEqual(one);
    for (const p of one.values()) {
      expect(p.x).toBeGreaterThanOrEqual(20);
      expect(p.x).toBeLessThanOrEqual(580);
      expect(p.y).toBeGreaterThanOrEqual(20);
      expect(p.y).toBeLessThanOrEqual(380);
    }
  });

  it('keeps endorsement clusters together', () => {
    const p = forceLayout(nodes, edges, size);
    const d = (x: string, y: string): number => Math.hypot(p.get(x)!.x - p.get(y)!.x, p.get(x)!.y - p.get(y)!.y);
    const within = (d('a', 'b') + d('b', 'c') + d('d', 'e')) / 3;
    const across = (d('a', 'd') + d('b', 'e') + d('c', 'f')) / 3;
    expect(within).toBeLessThan(across);
  });
});
