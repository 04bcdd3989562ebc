// Test helper: the Functions side of router receipts, real parts: the route `POST /api/audit/router-receipts` of the
// route table served by the local Functions host over HTTP, router tokens from the local OIDC issuer stand-in (JWKS
// served to the real authenticator), and the batched appender with a checkpoint signer over the Cosmos receipt store
// on the local Cosmos stand-in. `verify()` runs the chain verifier `kars audit verify` uses.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CosmosClient } from '@azure/cosmos';
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers, RECEIPTS_CONTAINER } from '../../../adapters/cosmos/cosmos-containers';
import { createCosmosReceiptStore } from '../../../adapters/cosmos/cosmos-receipt-store';
import { CosmosDocumentStore } from '../../../adapters/cosmos/cosmos-document-store';
import type { DocumentStore } from '../../../core/ports/document-store.port';
import { createMemorySecretSource } from '../../../adapters/memory/memory-secrets';
import { createOidcRouterAuthenticator } from '../../../adapters/mesh/oidc-router-authenticator';
import { ReceiptAppender } from '../../../core/audit/append-receipt';
import { createChainReceiptSink } from '../../../core/audit/chain-receipt-sink';
import { createSecretCheckpointSigner } from '../../../core/audit/checkpoint-signer';
import { verifyAuditLog, type AuditReport } from '../../../core/audit/verify-chain';
import { systemClock } from '../../../core/ports/clock.port';
import { silentLogger } from '../../../core/ports/logger.port';
import type { ReceiptStore } from '../../../core/ports/receipt-store.port';
import type { RouterReceiptMitigation } from '../../../core/router/audit/accept-router-receipts';
import { redact } from '../../../core/secrets/redacted';
import { ROUTER_AUDIT_TOKEN_AUDIENCE } from '../../../functions/audit/router-audit-settings';
import { createRouterReceiptRoutes } from '../../../functions/audit/router-receipt-routes';
import { startCosmosServer, type LocalCosmosServer } from '../../../infra/local/cosmos/start-cosmos-server';
import { startLocalHost, type LocalHost } from '../../../infra/local/host/local-host';
import { createServiceAccountIssuer, type ServiceAccountIssuer } from '../../../infra/local/identity/service-account-issuer';
import { keysOf, newKey, SIGNING_SECRET_NAME } from '../../core/audit/audit-fixture';

export const AUDIT_ISSUER = 'https://oidc.cluster.test/oidc';

export interface RouterReceiptLeaf {
  chain: string;
  kind: string;
  outcome: string;
  subject: string;
  data: { status: number; requestHash: string; code?: string; subject: Record<string, string | null> };
}

export interface RouterAuditFixture {
  url: string;
  issuer: ServiceAccountIssuer;
  store: ReceiptStore;
  /** The same container as plain documents: what someone with write access to the store can edit. */
  documents: DocumentStore;
  /** A file holding a fresh router token for `sandbox` (audience kars-audit unless told). */
  tokenFile(sandbox: string, audience?: string): string;
  token(sandbox: string, audience?: string): string;
  /** Every router receipt stored in the chains, in chain order. */
  routerReceipts(): Promise<RouterReceiptLeaf[]>;
  /** Signs a checkpoint on every chain, then verifies the whole log with the checkpoint key (a links-only verifier with `tree-heads` off). */
  verify(options?: { checkpoint?: boolean; _disable?: 'tree-heads'[] }): Promise<AuditReport>;
  stop(): Promise<void>;
}

export async function startRouterAuditFixture(options: { _disable?: RouterReceiptMitigation[]; cosmos?: LocalCosmosServer } = {}): Promise<RouterAuditFixture> {
  const issuer = createServiceAccountIssuer(AUDIT_ISSUER, 'system:serviceaccount:kars-system:kars-router');
  const ownCosmos = options.cosmos ? undefined : await startCosmosServer();
  const cosmos = options.cosmos ?? ownCosmos!;
  const client: CosmosClient = createCosmosClient({ endpoint: cosmos.endpoint, key: redact(cosmos.key) });
  const database = `router-audit-${Math.random().toString(36).slice(2, 10)}`;
  const containers = await ensureCosmosContainers(client, database, [RECEIPTS_CONTAINER]);
  const store = createCosmosReceiptStore(containers.get(RECEIPTS_CONTAINER.id)!);
  const key = newKey();
  const signer = createSecretCheckpointSigner(createMemorySecretSource({ [SIGNING_SECRET_NAME]: key.secret }), { secretName: SIGNING_SECRET_NAME, clock: systemClock });
  const appender = new ReceiptAppender(store, { clock: systemClock, signer });
  const authenticator = createOidcRouterAuthenticator({
    issuer: AUDIT_ISSUER, jwksUrl: `${AUDIT_ISSUER}/openid/v1/jwks`, audience: ROUTER_AUDIT_TOKEN_AUDIENCE, serviceAccounts: ['kars-router'],
    fetchImpl: async () => new Response(JSON.stringify(issuer.jwks()), { headers: { 'content-type': 'application/json' } }),
  });
  const routes = createRouterReceiptRoutes({
    authenticator, receipts: createChainReceiptSink(appender), logger: silentLogger, ...(options._disable ? { _disable: options._disable } : {}),
  });
  const host: LocalHost = await startLocalHost({ routes, keys: { functionKey: 'unused-function-key', masterKey: 'unused-master-key' }, logger: silentLogger, host: '127.0.0.1', port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'kars-router-token-'));
  const token = (sandbox: string, audience = ROUTER_AUDIT_TOKEN_AUDIENCE): string =>
    issuer.mint({ subject: `system:serviceaccount:${sandbox}:kars-router`, audience });
  let files = 0;
  return {
    url: host.url, issuer, store, token,
    documents: new CosmosDocumentStore(containers.get(RECEIPTS_CONTAINER.id)!, { setItemTtl: false }),
    tokenFile(sandbox, audience) {
      const file = join(dir, `token-${(files += 1)}`);
      writeFileSync(file, token(sandbox, audience), { mode: 0o600 });
      return file;
    },
    async routerReceipts() {
      const out: RouterReceiptLeaf[] = [];
      for (const chain of (await store.listChains()).sort()) {
        for await (const record of store.listEntries(chain)) {
          for (const leaf of (record.body['receipts'] as string[]).map((r) => JSON.parse(r) as Omit<RouterReceiptLeaf, 'chain'>)) {
            if (leaf.kind.startsWith('router.')) out.push({ chain, ...leaf });
          }
        }
      }
      return out;
    },
    async verify(o = {}) {
      await appender.whenIdle();
      if (o.checkpoint !== false) for (const chain of await store.listChains()) await appender.checkpoint(chain);
      return verifyAuditLog(store, { trustedKeys: keysOf(key), ...(o._disable ? { _disable: o._disable } : {}) });
    },
    async stop() {
      await host.close();
      await client.database(database).delete().catch(() => undefined);
      client.dispose();
      await ownCosmos?.stop();
    },
  };
}
