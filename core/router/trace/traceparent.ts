// T3-R: W3C Trace Context (https://www.w3.org/TR/trace-context/ §3.2) for the router: accept the agent's
// `traceparent` when it is well formed, else start a new trace; the router's own span becomes the parent of the
// upstream call, so the model call, its span and its receipt carry one trace id.

export interface TraceParent {
  readonly traceId: string;
  readonly parentId: string;
  /** Bit 0: sampled. */
  readonly flags: number;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * @returns the parsed header, or undefined for an absent or malformed one (version ff, all-zero ids, upper case,
 *   a version-00 header with trailing data: §3.2.2.1 / §3.2.4)
 */
export function parseTraceParent(header: string | undefined): TraceParent | undefined {
  if (header === undefined) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, parentId, flags, rest] = m;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(parentId!)) return undefined;
  return { traceId: traceId!, parentId: parentId!, flags: parseInt(flags!, 16) };
}

export function formatTraceParent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, '0')}`;
}
