// Mitigations of the sandbox router (T2-S, T2-T, T2-D, T3-I, T3-E) that an attack test can switch off to show the
// attack then succeeds. Only reachable through the `_disable` option of the router's factories, which no
// configuration loader sets (sandbox-node/router/router-config.ts has no key for it).

export const ROUTER_MITIGATIONS = [
  /** T2-S: the listener binds loopback only unless the explicit dev flag is set. */
  'loopback-only',
  /** T2-T: agent-supplied credentials (authorization, api-key, x-api-key, cookie, proxy-authorization) never go upstream. */
  'strip-agent-credentials',
  /** T3-E: a token issued more than the maximum age ago (1 h) is never used, whatever its expiry. */
  'token-max-age',
  /** T3-I: credential headers (authorization, set-cookie, api-key …) are stripped from upstream responses. */
  'response-headers',
  /** T3-I: bearer tokens and keys echoed in a response body (streamed or not) are redacted. */
  'body-redaction',
  /** T2-D: global and per-agent token buckets. */
  'rate-limits',
  /** T2-D: bounded number of requests in flight. */
  'concurrency-cap',
  /** RR3: model-token budgets (per request, sandbox day/month, tenant, cluster) reserved before a call, settled after. */
  'token-budget',
  /** T3-R: the agent's traceparent is continued, the router's span is the upstream call's parent, ids echoed back. */
  'trace-propagation',
  /** T2-R: a receipt per model call and per tool tunnel (sandbox, agent, operation, target, trace id, status, usage). */
  'call-receipts',
] as const;
export type RouterMitigation = (typeof ROUTER_MITIGATIONS)[number];

/**
 * The set of switched-off mitigations.
 * @throws {TypeError} for an unknown name (a typo must not silently leave a mitigation on in a test that claims it off)
 */
export function resolveRouterDisabled(disable: readonly string[] | undefined): ReadonlySet<RouterMitigation> {
  const out = new Set<RouterMitigation>();
  for (const m of disable ?? []) {
    if (!(ROUTER_MITIGATIONS as readonly string[]).includes(m)) throw new TypeError('"_disable" has an unknown router mitigation');
    out.add(m as RouterMitigation);
  }
  return out;
}
