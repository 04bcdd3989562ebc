// Header hygiene in both directions. T2-T: whatever credential the agent sends (its own, a forged one, one it found)
// never reaches the model endpoint; the router's own token is the only one. T3-I: credential headers an upstream
// (or a MITM) puts on a response never reach the agent. Both directions are allowlists, so a credential header nobody
// thought of (`ocp-apim-subscription-key`, `x-goog-api-key`) is dropped too; the named lists below are what the
// mitigation-off mode (a naive proxy that copies headers) lets through, and what the tests plant.

export type HeaderPairs = ReadonlyArray<readonly [string, string]>;

/** Credentials an agent might send; dropped by the allowlist, named for logs and tests. */
export const AGENT_CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization', 'proxy-authorization', 'api-key', 'x-api-key', 'cookie', 'ocp-apim-subscription-key',
]);

/** Credentials an upstream might send back. */
export const RESPONSE_CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization', 'proxy-authorization', 'set-cookie', 'set-cookie2', 'api-key', 'x-api-key', 'www-authenticate',
  'proxy-authenticate', 'x-ms-token', 'x-ms-client-principal', 'ocp-apim-subscription-key',
]);

/** RFC 9110 §7.6.1 connection-specific headers, plus framing the router recomputes. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host',
  'content-length',
]);
/** Compressed bodies would hide an echoed token from the redactor: the router always asks for identity encoding. */
const ENCODING: ReadonlySet<string> = new Set(['accept-encoding', 'content-encoding']);

const REQUEST_ALLOW: ReadonlySet<string> = new Set([
  'content-type', 'accept', 'user-agent', 'openai-beta', 'traceparent', 'tracestate', 'x-ms-client-request-id',
  'x-request-id', 'idempotency-key', 'x-kars-trace-id',
]);
/** The openai SDK's telemetry headers (`x-stainless-lang`, `x-stainless-retry-count` …): harmless, kept. */
const REQUEST_ALLOW_PREFIXES = ['x-stainless-'] as const;

const RESPONSE_ALLOW: ReadonlySet<string> = new Set([
  'content-type', 'cache-control', 'date', 'retry-after', 'retry-after-ms', 'x-request-id', 'x-ms-request-id',
  'apim-request-id', 'x-ms-region', 'x-ms-deployment-name', 'x-ms-client-request-id', 'x-kars-trace-id',
]);
const RESPONSE_ALLOW_PREFIXES = ['x-ratelimit-', 'openai-'] as const;

const allowed = (name: string, set: ReadonlySet<string>, prefixes: readonly string[]): boolean =>
  set.has(name) || prefixes.some((p) => name.startsWith(p));

export interface ForwardRequestHeaders {
  /** Headers to send upstream, names lower-cased; the caller adds `authorization` and framing. */
  readonly headers: Array<[string, string]>;
  /** How many agent credential headers were dropped (for the log; never their names' values). */
  readonly droppedCredentials: number;
  /** Mitigation off only: the agent sent its own `authorization`, which a naive proxy keeps instead of the router's. */
  readonly agentAuthorization: boolean;
}

/**
 * T2-T: the agent's headers as they may go upstream.
 * @param entries the request's header pairs as received
 * @param stripCredentials false only with `_disable: ['strip-agent-credentials']`
 */
export function forwardRequestHeaders(entries: HeaderPairs, stripCredentials: boolean): ForwardRequestHeaders {
  const headers: Array<[string, string]> = [];
  let droppedCredentials = 0;
  let agentAuthorization = false;
  for (const [raw, value] of entries) {
    const name = raw.toLowerCase();
    if (AGENT_CREDENTIAL_HEADERS.has(name)) droppedCredentials++;
    if (HOP_BY_HOP.has(name) || (stripCredentials && ENCODING.has(name))) continue;
    if (stripCredentials ? allowed(name, REQUEST_ALLOW, REQUEST_ALLOW_PREFIXES) : true) {
      headers.push([name, value]);
      if (!stripCredentials && name === 'authorization') agentAuthorization = true;
    }
  }
  return { headers, droppedCredentials: stripCredentials ? droppedCredentials : 0, agentAuthorization };
}

/**
 * T3-I: the upstream's response headers as they may reach the agent.
 * @param stripCredentials false only with `_disable: ['response-headers']`
 */
export function forwardResponseHeaders(entries: HeaderPairs, stripCredentials: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [raw, value] of entries) {
    const name = raw.toLowerCase();
    if (HOP_BY_HOP.has(name) || (stripCredentials && ENCODING.has(name))) continue;
    if (stripCredentials ? allowed(name, RESPONSE_ALLOW, RESPONSE_ALLOW_PREFIXES) : true) out.push([name, value]);
  }
  return out;
}
