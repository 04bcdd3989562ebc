// Router settings parsed once at start-up from the pod's environment (one zod schema, like functions/config.ts). A bad
// setting fails fast naming the key, never its value. There is no key for switching a mitigation off: `_disable`
// exists only as an option of the factories, for attack tests. Identity settings (AZURE_CLIENT_ID, AZURE_TENANT_ID,
// AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST) are read by adapters/identity/create-azure-credential.ts.
import { z } from 'zod';
import { KarsError } from '../../core/errors';
import { DEFAULT_ROUTER_LISTEN } from '../../core/router/listen-address';
import { DEPLOYMENT_NAME } from '../../core/router/model-route';
import { REVISION_ID_PATTERN } from '../../core/rollouts/plan-rollout';
import { MODEL_SCOPES, modelScopeFor, type ModelScope } from '../../core/router/model-audience';
import { parseEgressAllowlistSetting, type EgressAllowlist } from '../../core/router/egress/egress-allowlist';
import { isLoopbackUrl } from '../../adapters/identity/loopback';
import { parseSpkiPins } from '../../core/router/upstream/spki-pins';
import { sandboxEventsEntity } from '../../core/sandbox/sandbox-events-entity';

const int = (def: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().positive().max(max).default(def);

const routerSchema = z.object({
  KARS_ROUTER_LISTEN: z.string().default(DEFAULT_ROUTER_LISTEN),
  /** Dev only: allow a non-loopback listen address (warned at start). */
  KARS_ROUTER_ALLOW_NON_LOOPBACK: z.enum(['true', 'false']).default('false'),
  KARS_SANDBOX_ID: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/),
  /** The sandbox spec revision this router was started for (rollouts read it back from /healthz). */
  KARS_ROUTER_REVISION: z.string().regex(REVISION_ID_PATTERN).optional(),
  /** The agent's identity for the per-agent limit; default: the sandbox id (one agent per sandbox pod). */
  KARS_ROUTER_AGENT_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/).optional(),
  /** Azure OpenAI / Foundry endpoint, https (plain http only on loopback, for the local stand-in and the bench). */
  KARS_ROUTER_MODEL_ENDPOINT: z.url(),
  /** Token scope; default chosen from the endpoint (core/router/model-audience.ts). */
  KARS_ROUTER_MODEL_SCOPE: z.enum(MODEL_SCOPES).optional(),
  /** Comma-separated deployments the agent may call (OpenAI form: `model`; Azure form: the path). */
  KARS_ROUTER_DEPLOYMENTS: z.string().min(1),
  KARS_ROUTER_MAX_CONCURRENCY: int(256, 65_536),
  KARS_ROUTER_MAX_BODY_BYTES: int(16 * 1024 * 1024, 64 * 1024 * 1024),
  KARS_ROUTER_UPSTREAM_TIMEOUT_MS: int(120_000, 600_000),
  /** SIGTERM grace: in-flight requests get this long (pod terminationGracePeriodSeconds 30 − 5). */
  KARS_ROUTER_DRAIN_MS: int(25_000, 600_000),
  /**
   * Failover lists (T3-D): `primary=fallback1|fallback2` entries separated by commas. A call to `primary` goes on to
   * the fallbacks on 429/5xx or a failed connect. Fallbacks need not be in KARS_ROUTER_DEPLOYMENTS (the agent cannot
   * name them; the router picks them).
   */
  KARS_ROUTER_FALLBACKS: z.string().optional(),
  /** Tool egress allowlist for the CONNECT proxy (T3-S): `host:port` entries; unset refuses every tunnel. */
  KARS_ROUTER_EGRESS_ALLOWLIST: z.string().optional(),
  /** RR3: the tenant whose budget (and share of the cluster budget) this sandbox draws on; default the sandbox id. */
  KARS_ROUTER_TENANT_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/).optional(),
  /** Output tokens reserved for a call that sets no maximum. */
  KARS_ROUTER_DEFAULT_MAX_TOKENS: int(4096, 10_000_000),
  /** Largest reservation of one call (prompt bytes + output maximum). */
  KARS_ROUTER_MAX_TOKENS_PER_REQUEST: int(262_144, 100_000_000),
  KARS_ROUTER_SANDBOX_TOKENS_PER_DAY: int(2_000_000),
  KARS_ROUTER_SANDBOX_TOKENS_PER_MONTH: int(30_000_000),
  /** The tenant's own token quota per UTC day (unset: only its share of the cluster budget). */
  KARS_ROUTER_TENANT_TOKENS_PER_DAY: z.coerce.number().int().positive().optional(),
  /** The cluster budget, as the edge's (adapters/edge-limiter DEFAULT_CLUSTER_BUDGET): tokens per hour, tenant share. */
  KARS_ROUTER_CLUSTER_TOKENS_PER_HOUR: int(6_000_000),
  KARS_ROUTER_CLUSTER_MAX_TENANT_SHARE: z.coerce.number().gt(0).max(1).default(0.5),
  /** The Cosmos account holding the edge's limit documents (database, container `limits`); unset: per-router budgets. */
  KARS_COSMOS_ENDPOINT: z.url().optional(),
  KARS_COSMOS_DATABASE: z.string().regex(/^[A-Za-z0-9-]{1,64}$/).default('kars'),
  /** Local Cosmos stand-in only (loopback endpoint); in Azure the workload identity is used. */
  KARS_COSMOS_KEY: z.string().min(1).optional(),
  /** T2-R / T3-R: spans go to Application Insights when set (never logged: it carries the ingestion key). */
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().min(1).optional(),
  /**
   * T2-R / T3-R: the Functions app that appends router receipts to the signed chain (`POST /api/audit/router-receipts`);
   * https (plain http only on loopback). Unset: receipts are log lines only (warned at start).
   */
  KARS_ROUTER_AUDIT_URL: z.url().optional(),
  /** The projected service-account token for audience `kars-audit` (rotated by the kubelet; read per request). */
  KARS_ROUTER_AUDIT_TOKEN_FILE: z.string().min(1).default('/var/run/secrets/kars/audit/token'),
  /** Durable receipt spool on the pod's router-state volume: receipts wait here until the app has them. */
  KARS_ROUTER_AUDIT_SPOOL_DIR: z.string().min(1).default('/var/lib/kars/receipt-spool'),
  /** Below the router-state volume's 64 Mi limit (infra/k8s/sandbox/deployment.yaml). */
  KARS_ROUTER_AUDIT_SPOOL_MAX_BYTES: int(48 * 1024 * 1024, 4 * 1024 * 1024 * 1024),
  KARS_ROUTER_AUDIT_MAX_BUFFERED: int(10_000, 1_000_000),
  KARS_ROUTER_AUDIT_BATCH_SIZE: int(256, 256),
  KARS_ROUTER_AUDIT_BATCH_DELAY_MS: int(1000, 60_000),
  /**
   * T3-T: SPKI pins of the model endpoint (base64 SHA-256 of a certificate's SubjectPublicKeyInfo, comma-separated);
   * a chain must carry one of them besides chaining to a trusted root. Unset: roots only.
   */
  KARS_ROUTER_UPSTREAM_SPKI_PINS: z.string().optional(),
  /** T3-S / T3-T: client certificate chain and key (PEM files: a mounted secret or the Key Vault CSI driver) for mTLS. */
  KARS_ROUTER_UPSTREAM_CLIENT_CERT_FILE: z.string().min(1).optional(),
  KARS_ROUTER_UPSTREAM_CLIENT_KEY_FILE: z.string().min(1).optional(),
  /** Inbound events: the Service Bus namespace (fully qualified; workload identity) holding this sandbox's events. */
  KARS_SERVICEBUS_NAMESPACE: z.string().regex(/^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/).optional(),
  /** Local only: the namespace is the loopback broker, reached over plain TCP with this sandbox's Entra token (T1-E). */
  KARS_SERVICEBUS_EMULATOR: z.enum(['true', 'false']).default('false'),
  /** Inbound events, local broker stand-in only (loopback endpoint, UseDevelopmentEmulator=true); never logged. */
  KARS_SERVICEBUS_CONNECTION: z.string().min(1).optional(),
  /**
   * The entity holding this sandbox's events: a queue, or `<topic>/Subscriptions/<name>`. Default `sbx-<sandbox id>`
   * (T1-E): the queue the edge sends to and the only one this sandbox's identity may receive from.
   */
  KARS_ROUTER_EVENTS_ENTITY: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._~-]{0,259}(\/Subscriptions\/[A-Za-z0-9][A-Za-z0-9._~-]{0,49})?$/).optional(),
  /** The session to receive on a session-enabled entity; default the sandbox id (the edge's session key). */
  KARS_ROUTER_EVENTS_SESSION: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/).optional(),
  /** `true`: the entity is this sandbox's alone and has no sessions. */
  KARS_ROUTER_EVENTS_SESSIONLESS: z.enum(['true', 'false']).default('false'),
  /** How long the agent has to ack an event before it goes back to the broker (deliveryCount + 1). */
  KARS_ROUTER_EVENTS_ACK_WINDOW_MS: z.coerce.number().int().min(1000).max(600_000).default(60_000),
  /** Most events handed to the agent and not yet acked. */
  KARS_ROUTER_EVENTS_MAX_IN_FLIGHT: int(32, 1024),
  KARS_LIMIT_GLOBAL_RPS: int(500),
  KARS_LIMIT_GLOBAL_BURST: int(1000),
  KARS_LIMIT_AGENT_RPS: int(50),
  KARS_LIMIT_AGENT_BURST: int(100),
});

/** Every setting the router reads (docs/router.md documents each). */
export const ROUTER_SETTING_KEYS: readonly string[] = Object.keys(routerSchema.shape);

export interface RouterConfig {
  listen: string;
  allowNonLoopback: boolean;
  sandboxId: string;
  /** Spec revision reported by /healthz; absent outside a rollout-managed sandbox. */
  revision?: string;
  agentId: string;
  endpoint: URL;
  scope: ModelScope;
  deployments: ReadonlySet<string>;
  /** Deployment → fallbacks in order (absent: no failover for it). */
  fallbacks: ReadonlyMap<string, readonly string[]>;
  egressAllowlist: EgressAllowlist | undefined;
  maxConcurrency: number;
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  drainMs: number;
  limits: { globalRps: number; globalBurst: number; agentRps: number; agentBurst: number };
  tenantId: string;
  reservation: { defaultMaxOutputTokens: number; maxTokensPerRequest: number };
  budgets: {
    sandboxDayTokens: number;
    sandboxMonthTokens: number;
    tenantDayTokens: number | undefined;
    clusterHourTokens: number;
    clusterMaxTenantShare: number;
  };
  cosmos: { endpoint: string; database: string; key: string | undefined } | undefined;
  appInsightsConnectionString: string | undefined;
  /** Where receipts are shipped; undefined: log lines only. */
  audit: {
    url: URL; tokenFile: string; spoolDir: string; spoolMaxBytes: number; maxBuffered: number; batchSize: number; batchDelayMs: number;
  } | undefined;
  upstreamTls: {
    spkiPins: ReadonlySet<string>;
    clientCertificate: { certFile: string; keyFile: string } | undefined;
  };
  /** Inbound events; undefined when no Service Bus is configured (the event routes answer ROUTER_EVENTS_UNAVAILABLE). */
  events: RouterEventsConfig | undefined;
}

export interface RouterEventsConfig {
  serviceBus: { connectionString: string } | { namespace: string; developmentEmulator: boolean };
  entity: string;
  /** undefined: an entity without sessions. */
  sessionId: string | undefined;
  ackWindowMs: number;
  maxInFlight: number;
}

/** @throws KarsError CONFIG_INVALID naming the offending keys (never their values). */
export function loadRouterConfig(env: Record<string, string | undefined>): Readonly<RouterConfig> {
  const parsed = routerSchema.safeParse(env);
  if (!parsed.success) {
    const keys = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new KarsError('CONFIG_INVALID', `invalid or missing settings: ${keys}`);
  }
  const s = parsed.data;
  // T2-S: the dev flag exists for a laptop; inside a cluster a non-loopback router would serve other pods and nodes.
  if (s.KARS_ROUTER_ALLOW_NON_LOOPBACK === 'true' && (env['KUBERNETES_SERVICE_HOST'] ?? '') !== '') {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_ROUTER_ALLOW_NON_LOOPBACK is a dev flag, refused in a cluster (KUBERNETES_SERVICE_HOST is set)');
  }
  const endpoint = new URL(s.KARS_ROUTER_MODEL_ENDPOINT);
  // The router's bearer token must never travel in clear text beyond this pod.
  if (endpoint.protocol !== 'https:' && !(endpoint.protocol === 'http:' && isLoopbackUrl(endpoint.href))) {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_ROUTER_MODEL_ENDPOINT must be https');
  }
  if (endpoint.search || endpoint.hash || endpoint.username || endpoint.password) {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_ROUTER_MODEL_ENDPOINT takes no query, fragment or user info');
  }
  const deployments = s.KARS_ROUTER_DEPLOYMENTS.split(',').map((d) => d.trim()).filter(Boolean);
  if (deployments.length === 0 || !deployments.every((d) => DEPLOYMENT_NAME.test(d))) {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_ROUTER_DEPLOYMENTS');
  }
  const fallbacks = parseFallbacks(s.KARS_ROUTER_FALLBACKS);
  if (s.KARS_COSMOS_KEY !== undefined && (s.KARS_COSMOS_ENDPOINT === undefined || !isLoopbackUrl(s.KARS_COSMOS_ENDPOINT))) {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_COSMOS_KEY is for the local stand-in only');
  }
  let audit: RouterConfig['audit'];
  if (s.KARS_ROUTER_AUDIT_URL !== undefined) {
    const url = new URL(s.KARS_ROUTER_AUDIT_URL);
    // The router's service-account token travels with every batch.
    if ((url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackUrl(url.href))) || url.search || url.hash || url.username || url.password) {
      throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_ROUTER_AUDIT_URL must be https with no query, fragment or user info');
    }
    audit = {
      url, tokenFile: s.KARS_ROUTER_AUDIT_TOKEN_FILE, spoolDir: s.KARS_ROUTER_AUDIT_SPOOL_DIR, spoolMaxBytes: s.KARS_ROUTER_AUDIT_SPOOL_MAX_BYTES,
      maxBuffered: s.KARS_ROUTER_AUDIT_MAX_BUFFERED, batchSize: s.KARS_ROUTER_AUDIT_BATCH_SIZE, batchDelayMs: s.KARS_ROUTER_AUDIT_BATCH_DELAY_MS,
    };
  }
  let spkiPins: ReadonlySet<string>;
  try {
    spkiPins = parseSpkiPins((s.KARS_ROUTER_UPSTREAM_SPKI_PINS ?? '').split(',').map((p) => p.trim()).filter(Boolean));
  } catch {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_ROUTER_UPSTREAM_SPKI_PINS');
  }
  if ((s.KARS_ROUTER_UPSTREAM_CLIENT_CERT_FILE === undefined) !== (s.KARS_ROUTER_UPSTREAM_CLIENT_KEY_FILE === undefined)) {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_ROUTER_UPSTREAM_CLIENT_CERT_FILE and KARS_ROUTER_UPSTREAM_CLIENT_KEY_FILE go together');
  }
  if ((spkiPins.size > 0 || s.KARS_ROUTER_UPSTREAM_CLIENT_CERT_FILE !== undefined) && endpoint.protocol !== 'https:') {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_ROUTER_UPSTREAM_SPKI_PINS and client certificates need an https KARS_ROUTER_MODEL_ENDPOINT');
  }
  if (s.KARS_SERVICEBUS_CONNECTION !== undefined && !isLocalServiceBusConnection(s.KARS_SERVICEBUS_CONNECTION)) {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_SERVICEBUS_CONNECTION is for the local broker only (loopback, UseDevelopmentEmulator=true)');
  }
  const emulator = s.KARS_SERVICEBUS_EMULATOR === 'true';
  if (emulator && (s.KARS_SERVICEBUS_NAMESPACE === undefined || !/^(127\.0\.0\.1|localhost):\d{1,5}$/.test(s.KARS_SERVICEBUS_NAMESPACE))) {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_SERVICEBUS_EMULATOR needs a loopback KARS_SERVICEBUS_NAMESPACE');
  }
  if (!emulator && s.KARS_SERVICEBUS_NAMESPACE?.includes(':')) {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_SERVICEBUS_NAMESPACE takes a port only with KARS_SERVICEBUS_EMULATOR');
  }
  const serviceBus = s.KARS_SERVICEBUS_CONNECTION !== undefined
    ? { connectionString: s.KARS_SERVICEBUS_CONNECTION }
    : s.KARS_SERVICEBUS_NAMESPACE !== undefined ? { namespace: s.KARS_SERVICEBUS_NAMESPACE, developmentEmulator: emulator } : undefined;
  return Object.freeze({
    audit,
    upstreamTls: {
      spkiPins,
      clientCertificate: s.KARS_ROUTER_UPSTREAM_CLIENT_CERT_FILE !== undefined
        ? { certFile: s.KARS_ROUTER_UPSTREAM_CLIENT_CERT_FILE, keyFile: s.KARS_ROUTER_UPSTREAM_CLIENT_KEY_FILE! }
        : undefined,
    },
    listen: s.KARS_ROUTER_LISTEN,
    allowNonLoopback: s.KARS_ROUTER_ALLOW_NON_LOOPBACK === 'true',
    sandboxId: s.KARS_SANDBOX_ID,
    ...(s.KARS_ROUTER_REVISION !== undefined ? { revision: s.KARS_ROUTER_REVISION } : {}),
    agentId: s.KARS_ROUTER_AGENT_ID ?? s.KARS_SANDBOX_ID,
    endpoint,
    scope: s.KARS_ROUTER_MODEL_SCOPE ?? modelScopeFor(endpoint),
    deployments: new Set(deployments),
    fallbacks,
    egressAllowlist: parseEgressAllowlistSetting(s.KARS_ROUTER_EGRESS_ALLOWLIST),
    maxConcurrency: s.KARS_ROUTER_MAX_CONCURRENCY,
    maxBodyBytes: s.KARS_ROUTER_MAX_BODY_BYTES,
    upstreamTimeoutMs: s.KARS_ROUTER_UPSTREAM_TIMEOUT_MS,
    drainMs: s.KARS_ROUTER_DRAIN_MS,
    tenantId: s.KARS_ROUTER_TENANT_ID ?? s.KARS_SANDBOX_ID,
    reservation: { defaultMaxOutputTokens: s.KARS_ROUTER_DEFAULT_MAX_TOKENS, maxTokensPerRequest: s.KARS_ROUTER_MAX_TOKENS_PER_REQUEST },
    budgets: {
      sandboxDayTokens: s.KARS_ROUTER_SANDBOX_TOKENS_PER_DAY,
      sandboxMonthTokens: s.KARS_ROUTER_SANDBOX_TOKENS_PER_MONTH,
      tenantDayTokens: s.KARS_ROUTER_TENANT_TOKENS_PER_DAY,
      clusterHourTokens: s.KARS_ROUTER_CLUSTER_TOKENS_PER_HOUR,
      clusterMaxTenantShare: s.KARS_ROUTER_CLUSTER_MAX_TENANT_SHARE,
    },
    cosmos: s.KARS_COSMOS_ENDPOINT === undefined ? undefined : { endpoint: s.KARS_COSMOS_ENDPOINT, database: s.KARS_COSMOS_DATABASE, key: s.KARS_COSMOS_KEY },
    appInsightsConnectionString: s.APPLICATIONINSIGHTS_CONNECTION_STRING,
    events: serviceBus === undefined ? undefined : {
      serviceBus,
      entity: s.KARS_ROUTER_EVENTS_ENTITY ?? sandboxEventsEntity(s.KARS_SANDBOX_ID),
      sessionId: s.KARS_ROUTER_EVENTS_SESSIONLESS === 'true' ? undefined : s.KARS_ROUTER_EVENTS_SESSION ?? s.KARS_SANDBOX_ID,
      ackWindowMs: s.KARS_ROUTER_EVENTS_ACK_WINDOW_MS,
      maxInFlight: s.KARS_ROUTER_EVENTS_MAX_IN_FLIGHT,
    },
    limits: {
      globalRps: s.KARS_LIMIT_GLOBAL_RPS,
      globalBurst: s.KARS_LIMIT_GLOBAL_BURST,
      agentRps: s.KARS_LIMIT_AGENT_RPS,
      agentBurst: s.KARS_LIMIT_AGENT_BURST,
    },
  });
}

/** A connection string is accepted for the local broker stand-in only: in Azure the workload identity is used. */
function isLocalServiceBusConnection(value: string): boolean {
  const parts = new Map(value.split(';').map((p) => p.trim()).filter(Boolean).map((p) => {
    const i = p.indexOf('=');
    return [p.slice(0, i).toLowerCase(), p.slice(i + 1)] as const;
  }));
  const endpoint = parts.get('endpoint') ?? '';
  return /^sb:\/\//i.test(endpoint) && isLoopbackUrl(endpoint) && parts.get('usedevelopmentemulator')?.toLowerCase() === 'true';
}

/** `a=b|c, d=e` → a → [b, c], d → [e]. @throws KarsError CONFIG_INVALID naming the key, never the value */
export function parseFallbacks(value: string | undefined): ReadonlyMap<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const entry of (value ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const [primary, rest, extra] = entry.split('=');
    const list = (rest ?? '').split('|').map((d) => d.trim()).filter(Boolean);
    const names = [primary?.trim() ?? '', ...list];
    if (extra !== undefined || list.length === 0 || !names.every((d) => DEPLOYMENT_NAME.test(d)) || new Set(names).size !== names.length || out.has(names[0]!)) {
      throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_ROUTER_FALLBACKS');
    }
    out.set(names[0]!, list);
  }
  return out;
}
