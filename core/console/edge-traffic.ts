// Edge traffic over time for the operator console (T1-R receipts read back): accepted and refused webhooks per hook and
// refused ones per refusal code, counted into fixed time buckets. Pure: the entries come from read-recent-entries.ts.
import type { StoredRecord } from '../ports/receipt-store.port';

export const EDGE_WEBHOOK_KIND = 'edge.webhook';
/** A window's pre-auth refusals that got no receipt of their own, counted by code (core/edge/record-refusal-summary.ts). */
export const EDGE_REFUSALS_KIND = 'edge.webhook.refusals';

export interface TrafficWindow {
  fromMs: number;
  toMs: number;
  bucketMs: number;
}

export interface HookSeries {
  /** The hook id, or the request path when the route held no valid hook id (a probe of an unknown hook). */
  hook: string;
  accepted: number[];
  refused: number[];
}

export interface CodeSeries {
  code: string;
  refused: number[];
}

export interface EdgeTraffic extends TrafficWindow {
  /** Start of each bucket (ms since the epoch), ascending. */
  buckets: number[];
  hooks: HookSeries[];
  codes: CodeSeries[];
  /** Edge receipts counted in the window. */
  receipts: number;
}

/** At most this many buckets a window (the chart's width; more would only be drawn over each other). */
export const MAX_BUCKETS = 1440;

interface EdgeLeaf {
  outcome: string;
  atMs: number;
  hook: string;
  /** Requests by refusal code (undefined for accepted ones): one for a request's receipt, many for a summary. */
  counts: Array<[code: string | undefined, n: number]>;
}

/** One receipt's leaf JSON as an edge receipt, or undefined for any other kind or a shape it cannot read. */
export function readEdgeLeaf(leafJson: string): EdgeLeaf | undefined {
  let leaf: unknown;
  try {
    leaf = JSON.parse(leafJson);
  } catch {
    return undefined;
  }
  if (!isObject(leaf) || (leaf['kind'] !== EDGE_WEBHOOK_KIND && leaf['kind'] !== EDGE_REFUSALS_KIND) || typeof leaf['outcome'] !== 'string') return undefined;
  const data = leaf['data'];
  if (!isObject(data) || typeof data['atMs'] !== 'number') return undefined;
  const subject = isObject(data['subject']) ? data['subject'] : {};
  const hookId = subject['hookId'];
  const path = subject['path'];
  const hook = typeof hookId === 'string' ? hookId : typeof path === 'string' ? path : '(none)';
  if (leaf['kind'] === EDGE_REFUSALS_KIND) {
    const codes = typeof subject['codes'] === 'string' ? subject['codes'] : '';
    const counts = codes.split(',').flatMap((pair): Array<[string, number]> => {
      const m = /^(.+):(\d{1,9})$/.exec(pair);
      return m ? [[m[1]!, Number(m[2])]] : [];
    });
    return { outcome: 'rejected', atMs: data['atMs'], hook, counts };
  }
  const code = typeof data['code'] === 'string' ? data['code'] : undefined;
  return { outcome: leaf['outcome'], atMs: data['atMs'], hook, counts: [[code, 1]] };
}

/** Counts the edge receipts of `entries` (chain entries as stored) that fall in the window. */
export function bucketEdgeTraffic(entries: Iterable<StoredRecord>, window: TrafficWindow): EdgeTraffic {
  const count = Math.min(MAX_BUCKETS, Math.max(1, Math.ceil((window.toMs - window.fromMs) / window.bucketMs)));
  const buckets = Array.from({ length: count }, (_, i) => window.fromMs + i * window.bucketMs);
  const hooks = new Map<string, HookSeries>();
  const codes = new Map<string, CodeSeries>();
  let receipts = 0;
  for (const record of entries) {
    const leaves = record.body['receipts'];
    if (!Array.isArray(leaves)) continue;
    for (const leafJson of leaves) {
      if (typeof leafJson !== 'string') continue;
      const leaf = readEdgeLeaf(leafJson);
      if (!leaf || leaf.atMs < window.fromMs || leaf.atMs >= window.toMs) continue;
      const i = Math.floor((leaf.atMs - window.fromMs) / window.bucketMs);
      if (i >= count) continue;
      receipts++;
      const series = hooks.get(leaf.hook) ?? { hook: leaf.hook, accepted: new Array<number>(count).fill(0), refused: new Array<number>(count).fill(0) };
      hooks.set(leaf.hook, series);
      for (const [code, n] of leaf.counts) {
        if (leaf.outcome !== 'rejected') {
          series.accepted[i]! += n;
          continue;
        }
        series.refused[i]! += n;
        const c = codes.get(code ?? 'UNKNOWN') ?? { code: code ?? 'UNKNOWN', refused: new Array<number>(count).fill(0) };
        codes.set(c.code, c);
        c.refused[i]! += n;
      }
    }
  }
  const byName = <T>(m: Map<string, T>): T[] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  return { ...window, buckets, hooks: byName(hooks), codes: byName(codes), receipts };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
