// Trust view (T4-E): a tenant's TrustGraph (nodes = DIDs, edges = signed endorsements with their weight) laid out by
// core/console/force-layout.ts, and one node's edges and scores. Reads GET /api/trust/graph.
import { forceLayout } from '../../core/console/force-layout';
import { api, ApiError } from './api';
import { el, setText, svg, table, time } from './dom';

interface TrustGraph {
  tenantId: string;
  version: number;
  scores: Array<{ observer: string; subject: string; score: number; atMs: number }>;
  edges: Array<{ from: string; to: string; weight: number; atMs: number }>;
}

const WIDTH = 720;
const HEIGHT = 420;

export async function renderTrust(root: HTMLElement, tenant = 'demo-tenant'): Promise<void> {
  const input = el('input', { id: 'trust-tenant', type: 'text', value: tenant });
  const form = el('form', { class: 'inline' }, el('label', { for: 'trust-tenant' }, 'Tenant'), input, el('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void renderTrust(root, input.value.trim());
  });
  const body = el('div', {});
  root.replaceChildren(el('h2', {}, 'Trust graph'), form, body);
  let read: { changed: boolean; graph?: TrustGraph };
  try {
    read = await api(`trust/graph?tenant=${encodeURIComponent(tenant)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return void body.replaceChildren(el('p', {}, 'No trust graph for this tenant yet.'));
    throw e;
  }
  const graph = read.graph;
  if (!graph) return void body.replaceChildren(el('p', {}, 'No trust graph for this tenant yet.'));
  const nodes = [...new Set([...graph.edges.flatMap((e) => [e.from, e.to]), ...graph.scores.map((s) => s.subject)])].sort();
  const pos = forceLayout(nodes, graph.edges, { width: WIDTH, height: HEIGHT });
  const picture = svg('svg', { class: 'graph', width: WIDTH, height: HEIGHT, viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'group', 'aria-label': `Trust graph of ${nodes.length} agents` });
  const detail = el('div', {});
  for (const e of graph.edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (a && b) picture.append(svg('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y, 'stroke-width': 1 + e.weight / 250 }));
  }
  for (const did of nodes) {
    const p = pos.get(did)!;
    // Named by its visible label (the shortened DID); Enter or a click shows the agent's edges and scores.
    const g = svg('g', { tabindex: 0, role: 'button' });
    g.append(svg('circle', { cx: p.x, cy: p.y, r: 7 }));
    const label = svg('text', { x: p.x + 9, y: p.y + 4 });
    setText(label, shortDid(did));
    g.append(label);
    g.addEventListener('click', () => showNode(detail, graph, did));
    g.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') showNode(detail, graph, did); });
    picture.append(g);
  }
  body.replaceChildren(el('p', {}, `version ${graph.version}: ${nodes.length} agents, ${graph.edges.length} endorsements`), picture, detail);
}

function showNode(out: HTMLElement, graph: TrustGraph, did: string): void {
  const edges = graph.edges.filter((e) => e.from === did || e.to === did);
  const scores = graph.scores.filter((s) => s.subject === did);
  out.replaceChildren(
    el('h2', {}, 'Agent'),
    el('p', {}, el('code', {}, did)),
    table(['From', 'To', 'Weight', 'Signed update'], edges.map((e) => [el('code', {}, e.from), el('code', {}, e.to), e.weight, time(e.atMs)])),
    table(['Observer', 'Score', 'Signed update'], scores.map((s) => [el('code', {}, s.observer), s.score, time(s.atMs)])),
  );
}

const shortDid = (did: string): string => (did.length > 24 ? `${did.slice(0, 12)}…${did.slice(-6)}` : did);
