// In-process mesh fixture: the mesh routes of the route table over memory stores, the real replay guard, local
// limiter, receipt chain and router authenticator (tokens from the local OIDC issuer stand-in, its JWKS served to the
// authenticator). Requests go through the route handlers as the Functions host would call them.
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { createDocumentReplayGuard } from '../../adapters/edge/document-replay-guard';
import { createLocalEdgeLimiter } from '../../adapters/edge/local-edge-limiter';
import { createOidcRouterAuthenticator } from '../../adapters/mesh/oidc-router-authenticator';
import { MemoryDocumentStore } from '../../adapters/memory/memory-document-store';
import { ReceiptAppender } from '../../core/audit/append-receipt';
import { createChainReceiptSink } from '../../core/audit/chain-receipt-sink';
import { DocumentReceiptStore } from '../../core/audit/document-receipt-store';
import { perSecond, type TokenBucketConfig } from '../../core/limits/token-bucket';
import type { MeshMitigation } from '../../core/mesh/mesh-switches';
import { createMeshRegistry } from '../../core/mesh/registry/mesh-registry';
import { createMeshRelay } from '../../core/mesh/relay/mesh-relay';
import type { DocumentStore } from '../../core/ports/document-store.port';
import type { MeshNotifier, MeshPendingNote } from '../../core/ports/mesh-notifier.port';
import type { ReceiptSink } from '../../core/ports/receipt-sink.port';
import { createMeshRoutes, ROUTER_TOKEN_HEADER } from '../../functions/mesh/mesh-routes';
import type { RouteDef } from '../../functions/route-def';
import { compileRoute } from '../../infra/local/host/match-route';
import { createServiceAccountIssuer, type MintServiceAccountTokenOptions, type ServiceAccountIssuer } from '../../infra/local/identity/service-account-issuer';

export const ISSUER = 'https://oidc.cluster.test/oidc';

export interface MeshFixtureOptions {
  _disable?: MeshMitigation[];
  agentRate?: TokenBucketConfig;
  globalRate?: TokenBucketConfig;
  /** Replace the receipt sink (e.g. one that fails). */
  receipts?: ReceiptSink;
  /** Registry buckets: per calling sandbox and global. */
  registryAgentRate?: TokenBucketConfig;
  registryGlobalRate?: TokenBucketConfig;
  inboxMaxFrames?: number;
  inboxMaxBytes?: number;
  /** Wrap the registry's store (e.g. to fail a chosen write). */
  wrapAgents?: (inner: MemoryDocumentStore) => DocumentStore;
}

export interface CallOptions {
  sandbox?: string;
  /** A raw router token instead of a fresh one for `sandbox`. */
  token?: string | null;
  body?: unknown;
  authorization?: string;
}

export interface MeshFixture {
  clock: { nowMs(): number; advance(ms: number): void };
  issuer: ServiceAccountIssuer;
  tokenFor(sandbox: string, options?: MintServiceAccountTokenOptions): string;
  call(method: string, path: string, options?: CallOptions): Promise<{ status: number; body: any; headers: Record<string, string> }>;
  notes: { sandboxId: string; note: MeshPendingNote }[];
  receiptStore: DocumentReceiptStore;
  /** The real chain sink over receiptStore (also when `receipts` replaced it for the relay). */
  chainSink: ReceiptSink;
  /** The data of every mesh receipt in the chains. */
  meshReceipts(): Promise<Record<string, unknown>[]>;
  inbox: MemoryDocumentStore;
  /** The registry's store, unwrapped. */
  agents: MemoryDocumentStore;
}

export function createMeshFixture(options: MeshFixtureOptions = {}): MeshFixture {
  let now = Date.now();
  const clock = { nowMs: () => now, advance: (ms: number) => { now += ms; } };
  const issuer = createServiceAccountIssuer(ISSUER, 'system:serviceaccount:kars-system:kars-router');
  const agents = new MemoryDocumentStore({ clock });
  const inbox = new MemoryDocumentStore({ clock });
  const replay = new MemoryDocumentStore({ clock });
  const receiptStore = new DocumentReceiptStore(new MemoryDocumentStore({ clock }));
  const chainSink = createChainReceiptSink(new ReceiptAppender(receiptStore, { clock }));
  const receipts = options.receipts ?? chainSink;
  const notes: MeshFixture['notes'] = [];
  const notifier: MeshNotifier = { async notify(sandboxId, note) { notes.push({ sandboxId, note }); } };
  const logger = { info() {}, warn() {}, error() {} };
  const registryGlobal = options.registryGlobalRate ?? perSecond(500, 1000);
  const registry = createMeshRegistry(
    {
      agents: options.wrapAgents ? options.wrapAgents(agents) : agents, replay: createDocumentReplayGuard(replay), clock, sleep: async () => undefined, logger,
      limiter: createLocalEdgeLimiter({ clock, global: registryGlobal, agent: options.registryAgentRate ?? perSecond(100, 200), tenantBudget: { requestRate: registryGlobal } }),
    },
    { _disable: options._disable },
  );
  const globalRate = options.globalRate ?? perSecond(500, 1000);
  const relay = createMeshRelay(
    {
      inbox, directory: registry, receipts, notifier, clock, logger,
      limiter: createLocalEdgeLimiter({ clock, global: globalRate, agent: options.agentRate ?? perSecond(20, 40), tenantBudget: { requestRate: globalRate } }),
    },
    {
      meshId: 'test-mesh', _disable: options._disable,
      ...(options.inboxMaxFrames !== undefined ? { inboxMaxFrames: options.inboxMaxFrames } : {}),
      ...(options.inboxMaxBytes !== undefined ? { inboxMaxBytes: options.inboxMaxBytes } : {}),
    },
  );
  const authenticator = createOidcRouterAuthenticator({
    issuer: ISSUER, jwksUrl: `${ISSUER}/openid/v1/jwks`, audience: 'kars-mesh', serviceAccounts: ['kars-router'], clock,
    fetchImpl: async () => new Response(JSON.stringify(issuer.jwks()), { headers: { 'content-type': 'application/json' } }),
  });
  const routes = createMeshRoutes({ registry, relay, authenticator, logger });
  const compiled = routes.map((r) => compileRoute<RouteDef>(r.route, r));
  const tokenFor = (sandbox: string, o: MintServiceAccountTokenOptions = {}): string =>
    issuer.mint({ subject: `system:serviceaccount:${sandbox}:kars-router`, audience: 'kars-mesh', issuedAtSec: Math.floor(now / 1000), ...o });

  return {
    clock, issuer, tokenFor, notes, receiptStore, chainSink, inbox, agents,
    async call(method, path, o = {}) {
      const [pathname, query = ''] = path.split('?') as [string, string?];
      let params: Record<string, string> | undefined;
      const route = compiled.find((c) => c.value.methods.includes(method as never) && (params = c.match('/' + pathname)) !== undefined);
      if (!route) throw new Error(`no route for ${method} ${path}`);
      const headers: Record<string, string> = {};
      const token = o.token === undefined ? tokenFor(o.sandbox ?? 'sb-a') : o.token;
      if (token !== null) headers[ROUTER_TOKEN_HEADER] = token;
      if (o.authorization !== undefined) headers.authorization = o.authorization;
      if (o.body !== undefined) headers['content-type'] = 'application/json';
      const req = new HttpRequest({
        method, url: `http://local/api/${pathname}${query ? `?${query}` : ''}`, headers, params,
        ...(o.body !== undefined ? { body: { string: JSON.stringify(o.body) } } : {}),
      });
      const res = (await route.value.handler(req, new InvocationContext())) as HttpResponseInit;
      return { status: res.status ?? 200, body: res.jsonBody ?? null, headers: (res.headers ?? {}) as Record<string, string> };
    },
    async meshReceipts() {
      const out: Record<string, unknown>[] = [];
      for (const chain of await receiptStore.listChains()) {
        for await (const record of receiptStore.listEntries(chain)) {
          type Leaf = { kind?: string; outcome: string; data: Record<string, unknown> };
          for (const leaf of (record.body['receipts'] as string[]).map((r) => JSON.parse(r) as Leaf)) {
            if (leaf.kind === 'mesh.envelope') out.push({ outcome: leaf.outcome, ...leaf.data });
          }
        }
      }
      return out;
    },
  };
}

/** A ciphertext `message` frame as the AGT MeshClient sends it. */
export function messageFrame(from: string, to: string, id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1, type: 'message', from, to, id, ts: new Date().toISOString(),
    header: { dh: Buffer.alloc(32, 7).toString('base64'), pn: 0, n: 0 },
    ciphertext: Buffer.from(`sealed-${id}`).toString('base64'),
    ...extra,
  };
}
