// Edge view: accepted and refused webhooks over the last hour (uPlot), per hook and per refusal code (T1-R receipts).
import uPlot from 'uplot';
import { api } from './api';
import { el, table } from './dom';

interface EdgeTraffic {
  fromMs: number;
  toMs: number;
  bucketMs: number;
  buckets: number[];
  hooks: Array<{ hook: string; accepted: number[]; refused: number[] }>;
  codes: Array<{ code: string; refused: number[] }>;
  receipts: number;
  truncatedChains: string[];
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

export async function renderEdge(root: HTMLElement): Promise<void> {
  const data = await api<EdgeTraffic>('console/data/edge?minutes=60&bucketSec=60');
  const accepted = data.buckets.map((_, i) => sum(data.hooks.map((h) => h.accepted[i] ?? 0)));
  const refused = data.buckets.map((_, i) => sum(data.hooks.map((h) => h.refused[i] ?? 0)));
  const chart = el('div', { class: 'chart', role: 'img', 'aria-label': 'Accepted and refused webhooks per minute over the last hour' });
  root.replaceChildren(
    el('h2', {}, 'Webhooks, last hour'),
    el('p', {}, `${data.receipts} edge receipts`, data.truncatedChains.length > 0 ? ' (older entries not read; the window is partial)' : ''),
    chart,
    el('h2', {}, 'Per hook'),
    table(['Hook', 'Accepted', 'Refused'], data.hooks.map((h) => [el('code', {}, h.hook), sum(h.accepted), sum(h.refused)])),
    el('h2', {}, 'Refusals per code'),
    table(['Code', 'Refused'], data.codes.map((c) => [c.code, sum(c.refused)])),
  );
  new uPlot({
    width: Math.min(900, Math.max(320, document.body.clientWidth - 40)),
    height: 220,
    series: [{}, { label: 'accepted', stroke: '#0a6b2c' }, { label: 'refused', stroke: '#a1001b' }],
    axes: [{}, {}],
  }, [data.buckets.map((b) => b / 1000), accepted, refused], chart);
}
