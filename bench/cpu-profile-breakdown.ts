// Where a process's CPU went, from a V8 `.cpuprofile` (`node --cpu-prof`): each sample is charged to the innermost
// frame of the stack that belongs to a named part (the router's own files by job, then Node's internals), so time
// spent in a builtin (JSON.stringify, a regex) counts against the part that called it. Idle samples are left out.
import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; parent?: number; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

/** A part of the work, matched against a frame's script URL (and function name). First match wins, innermost frame first. */
export interface Part { readonly name: string; readonly match: (f: CallFrame) => boolean }

const inUrl = (...parts: string[]) => (f: CallFrame): boolean => parts.some((p) => f.url.includes(p));

/** The router's parts, most specific first. */
export const ROUTER_PARTS: readonly Part[] = [
  { name: 'response redactor (T3-I)', match: (f) => inUrl('stream-redactor', 'redacting-stream', 'response-redaction')(f) || f.functionName === 'withEncodedForms' },
  { name: 'log line per call', match: inUrl('json-logger', 'logger.port', 'request-log-line') },
  { name: 'receipt + spool (T2-R)', match: inUrl('call-receipt', 'file-receipt-spool', 'receipt-shipper', 'start-receipt-shipping', 'http-receipt-transport', 'sha256-hex', 'canonical-json') },
  { name: 'span (OpenTelemetry)', match: inUrl('@opentelemetry', 'call-telemetry', 'traceparent', 'router-telemetry') },
  { name: 'token budget (RR3)', match: inUrl('token-budget', 'limit-documents', 'memory-document-store', 'cluster-budget', 'tenant-budget', 'token-reservation', 'usage-scanner') },
  { name: 'header hygiene (T2-T/T3-I)', match: (f) => inUrl('forward-headers')(f) || (f.url.includes('router-server') && f.functionName === 'pairs') },
  { name: 'body read + JSON parse', match: inUrl('read-json-body') },
  { name: 'failover + health (T3-D)', match: inUrl('call-with-failover', 'circuit-breaker', 'deployment-health', 'redirect-policy') },
  { name: 'limits + gate (T2-D)', match: inUrl('router-limiter', 'concurrency-gate', 'token-bucket', 'model-route') },
  { name: 'token source (T3-E)', match: inUrl('fresh-token-source', 'token-freshness') },
  { name: 'upstream client', match: inUrl('upstream-client', 'node:_http_client', 'node:_http_agent') },
  { name: 'router handler (rest)', match: inUrl('router-server', 'send-router-error') },
  { name: 'node http server', match: inUrl('node:_http_server', 'node:_http_incoming', 'node:_http_outgoing', 'node:_http_common') },
  { name: 'node streams', match: inUrl('node:internal/streams', 'node:stream') },
  { name: 'node net + timers', match: inUrl('node:net', 'node:internal/stream_base_commons', 'node:internal/timers', 'node:internal/process/task_queues', 'node:events') },
  { name: 'garbage collector', match: (f) => f.functionName === '(garbage collector)' },
];

/** Stream functions that pass data on to the next stream: what runs above them is the next stream's work. */
const HAND_OFF = new Set(['addChunk', 'readableAddChunk', 'readableAddChunkPushByteMode', 'ondata', 'pipeOnDataFunction']);

export interface Breakdown {
  /** Non-idle CPU microseconds in the window, by part (descending), plus `other`. */
  readonly parts: ReadonlyArray<{ name: string; us: number }>;
  readonly totalUs: number;
  /** The functions with most self time (name, file tail), for a closer look. */
  readonly hottest: ReadonlyArray<{ name: string; us: number }>;
}

/**
 * @param fromUs / toUs the window on the profile's clock (CLOCK_MONOTONIC microseconds, as `process.hrtime`)
 */
export function cpuBreakdown(file: string, parts: readonly Part[], window?: { fromUs: number; toUs: number }): Breakdown {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) byId.get(c)!.parent = n.id;
  const partOf = new Map<number, string>();
  // Leaf to root: the innermost router part takes the sample (a builtin or Node call it made included), unless the
  // walk first crosses a stream hand-off (data pushed on to the next stream), whose work belongs to Node's parts.
  const resolvePart = (id: number): string => {
    const known = partOf.get(id);
    if (known !== undefined) return known;
    let nodePart: string | undefined;
    let name: string | undefined;
    for (let n: ProfileNode | undefined = byId.get(id); n && name === undefined; n = n.parent === undefined ? undefined : byId.get(n.parent)) {
      const f = n.callFrame;
      const part = parts.find((x) => x.match(f));
      if (part && !f.url.startsWith('node:') && f.functionName !== '(garbage collector)') name = part.name;
      else if (part) nodePart ??= part.name;
      else if (f.url.startsWith('node:internal/streams') && HAND_OFF.has(f.functionName)) name = nodePart ?? 'node streams';
    }
    name ??= nodePart ?? 'other';
    partOf.set(id, name);
    return name;
  };
  const totals = new Map<string, number>();
  const self = new Map<string, number>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i += 1) {
    t += p.timeDeltas[i] ?? 0;
    const dt = p.timeDeltas[i + 1] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    const node = byId.get(p.samples[i]!)!;
    const fn = node.callFrame.functionName;
    if (fn === '(idle)') continue;
    total += dt;
    const part = resolvePart(node.id);
    totals.set(part, (totals.get(part) ?? 0) + dt);
    const key = `${fn || '(anonymous)'} ${node.callFrame.url.split('/').slice(-1)[0] ?? ''}:${node.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const sorted = (m: Map<string, number>) => [...m].map(([name, us]) => ({ name, us })).sort((a, b) => b.us - a.us);
  return { parts: sorted(totals), totalUs: total, hottest: sorted(self).slice(0, 12) };
}
