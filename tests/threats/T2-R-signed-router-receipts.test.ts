// T2-R "Tool calls not attributable": every model call and tool tunnel through a router leaves a receipt in the signed, hash-chained audit log, written for the router's own sandbox only.
// Defends: call-receipts, sandbox-binding, receipt-hash
// Real parts: the router with its durable spool and HTTP shipper, the local Functions host serving
// `POST /api/audit/router-receipts`, router tokens from the OIDC issuer stand-in, the batched appender over the Cosmos
// stand-in and the chain verifier. Attacks: (1) calls that leave no signed record (router `call-receipts` off);
// (2) a compromised router writing receipts in another sandbox's name (route `sandbox-binding` off); (3) a receipt
// whose fields were changed after it was hashed (route `receipt-hash` off).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/ports/logger.port';
import type { RouterReceiptMitigation } from '../../core/router/audit/accept-router-receipts';
import { callReceipt } from '../../core/router/call-receipt';
import type { RouterMitigation } from '../../core/router/router-mitigations';
import { startCosmosServer, type LocalCosmosServer } from '../../infra/local/cosmos/start-cosmos-server';
import { startIdentityServer, type IdentityServer } from '../../infra/local/identity/identity-server';
import { startReceiptShipping } from '../../sandbox-node/router/audit/start-receipt-shipping';
import { startRouterAuditFixture, type RouterAuditFixture } from '../integration/router/router-audit-fixture';
import { startRouterStack } from '../integration/router/router-stack';
import { chatBody, okJson, startTestUpstream, type TestUpstream } from '../integration/router/test-upstream';

let cosmos: LocalCosmosServer;
let identity: IdentityServer;
let upstream: TestUpstream;

beforeAll(async () => {
  cosmos = await startCosmosServer();
  identity = await startIdentityServer();
  upstream = await startTestUpstream((_req, res) => okJson(res, { id: 'c1', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
});
afterAll(async () => {
  await upstream?.stop();
  await identity?.stop();
  await cosmos?.stop();
});

async function withAudit<T>(disable: RouterReceiptMitigation[], run: (audit: RouterAuditFixture) => Promise<T>): Promise<T> {
  const audit = await startRouterAuditFixture({ cosmos, _disable: disable });
  try { return await run(audit); } finally { await audit.stop(); }
}

/** Three model calls through a router of `sandbox` shipping to `audit`; resolves once its spool is empty. */
async function callThrough(audit: RouterAuditFixture, sandbox: string, disable: RouterMitigation[]): Promise<void> {
  const shipper = await startReceiptShipping({
    url: new URL(audit.url), tokenFile: audit.tokenFile(sandbox), spoolDir: mkdtempSync(join(tmpdir(), 'kars-t2r-')),
    spoolMaxBytes: 1 << 20, maxBuffered: 100, batchSize: 256, batchDelayMs: 20,
  }, silentLogger);
  const s = await startRouterStack({ identity, upstreamUrl: upstream.url, receipts: shipper, sandboxId: sandbox, _disable: disable });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody() });
      expect(r.status).toBe(200);
      await r.text();
    }
  } finally {
    await s.stop();
    await shipper.stop(5000);
  }
}

const receiptOf = (sandbox: string, traceId = '4bf92f3577b34da6a3ce929d0e0e4736') => callReceipt({
  kind: 'router.model', sandboxId: sandbox, agentId: sandbox, operation: 'chat', target: 'gpt-4o-mini', traceId,
  spanId: '00f067aa0ba902b7', status: 200, inputTokens: 1, outputTokens: 1, atMs: Date.now(),
});
const post = (audit: RouterAuditFixture, token: string, receipts: unknown[]) => fetch(`${audit.url}/api/audit/router-receipts`, {
  method: 'POST', headers: { 'content-type': 'application/json', 'x-kars-router-token': token }, body: JSON.stringify({ receipts }),
});

describe('T2-R every router call has a signed receipt of its own sandbox', () => {
  it('ON: three calls → three receipts in the chain naming the sandbox; the chain verifies', async () => {
    await withAudit([], async (audit) => {
      await callThrough(audit, 'sbx-t2r', []);
      const mine = (await audit.routerReceipts()).filter((r) => r.subject === 'sbx-t2r');
      expect(mine.map((r) => [r.kind, r.data.subject['sandboxId'], r.data.status])).toEqual(Array(3).fill(['router.model', 'sbx-t2r', 200]));
      expect((await audit.verify()).ok).toBe(true);
    });
  });

  it('OFF (call-receipts): the same three calls are answered and leave nothing in the signed log', async () => {
    await withAudit([], async (audit) => {
      await callThrough(audit, 'sbx-t2r-off', ['call-receipts']);
      expect(await audit.routerReceipts()).toEqual([]);
    });
  });

  it("ON: sandbox A's router cannot write receipts in sandbox B's name (403, nothing appended)", async () => {
    await withAudit([], async (audit) => {
      const r = await post(audit, audit.token('sbx-a'), [receiptOf('sbx-b')]);
      expect(r.status).toBe(403);
      expect((await r.json() as { code: string }).code).toBe('AUTH_FORBIDDEN');
      expect(await audit.routerReceipts()).toEqual([]);
    });
  });

  it("OFF (sandbox-binding): sandbox A's router plants a receipt attributed to sandbox B", async () => {
    await withAudit(['sandbox-binding'], async (audit) => {
      const r = await post(audit, audit.token('sbx-a'), [receiptOf('sbx-b')]);
      expect(r.status).toBe(200);
      expect((await audit.routerReceipts()).map((x) => x.data.subject['sandboxId'])).toEqual(['sbx-b']);
    });
  });

  it('ON: a receipt changed after it was hashed is refused (400); OFF (receipt-hash): it enters the chain', async () => {
    const forged = { ...receiptOf('sbx-a'), subject: { ...receiptOf('sbx-a').subject, target: 'gpt-4o' } };
    await withAudit([], async (audit) => {
      const r = await post(audit, audit.token('sbx-a'), [forged]);
      expect(r.status).toBe(400);
      expect(await audit.routerReceipts()).toEqual([]);
    });
    await withAudit(['receipt-hash'], async (audit) => {
      const r = await post(audit, audit.token('sbx-a'), [forged]);
      expect(r.status).toBe(200);
      expect((await audit.routerReceipts()).map((x) => x.data.subject['target'])).toEqual(['gpt-4o']);
    });
  });
});
