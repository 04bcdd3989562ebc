// A small force-directed layout for the console's trust graph (nodes = DIDs, edges = endorsements): springs along
// edges, repulsion between every pair, a pull to the centre, a fixed number of cooling steps. Deterministic (initial
// positions on a circle), O(iterations × n²): meant for the tens to low hundreds of nodes a tenant's graph holds.

export interface LayoutEdge {
  from: string;
  to: string;
}

export interface LayoutOptions {
  width: number;
  height: number;
  iterations?: number;
}

export interface Point {
  x: number;
  y: number;
}

export function forceLayout(nodes: readonly string[], edges: readonly LayoutEdge[], options: LayoutOptions): Map<string, Point> {
  const n = nodes.length;
  const pos = new Map<string, Point>();
  const cx = options.width / 2;
  const cy = options.height / 2;
  const radius = Math.min(options.width, options.height) * 0.35;
  nodes.forEach((id, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, n);
    pos.set(id, { x: cx + radius * Math.cos(a), y: cy + radius * Math.sin(a) });
  });
  if (n < 2) return pos;
  const ideal = Math.sqrt((options.width * options.height) / n) * 0.6;
  const iterations = options.iterations ?? 200;
  let temperature = Math.min(options.width, options.height) / 8;
  const points = nodes.map((id) => pos.get(id)!);
  const index = new Map(nodes.map((id, i) => [id, i]));
  const links = edges.flatMap((e) => {
    const a = index.get(e.from);
    const b = index.get(e.to);
    return a !== undefined && b !== undefined && a !== b ? [[a, b] as const] : [];
  });
  for (let step = 0; step < iterations; step++) {
    const dx = new Float64Array(n);
    const dy = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const vx = points[i]!.x - points[j]!.x;
        const vy = points[i]!.y - points[j]!.y;
        const d2 = Math.max(0.01, vx * vx + vy * vy);
        const f = (ideal * ideal) / d2;
        dx[i]! += vx * f; dy[i]! += vy * f;
        dx[j]! -= vx * f; dy[j]! -= vy * f;
      }
    }
    for (const [a, b] of links) {
      const vx = points[a]!.x - points[b]!.x;
      const vy = points[a]!.y - points[b]!.y;
      const d = Math.max(0.1, Math.hypot(vx, vy));
      const f = d / ideal;
      dx[a]! -= vx * f; dy[a]! -= vy * f;
      dx[b]! += vx * f; dy[b]! += vy * f;
    }
    for (let i = 0; i < n; i++) {
      const p = points[i]!;
      dx[i]! += (cx - p.x) * 0.05;
      dy[i]! += (cy - p.y) * 0.05;
      const len = Math.max(0.01, Math.hypot(dx[i]!, dy[i]!));
      const move = Math.min(len, temperature);
      p.x = clamp(p.x + (dx[i]! / len) * move, 20, options.width - 20);
      p.y = clamp(p.y + (dy[i]! / len) * move, 20, options.height - 20);
    }
    temperature *= 0.97;
  }
  return pos;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
