// T3-R "Foundry call not linked to agent": the receipt linking a model call to the agent's trace sits in the signed hash chain, so editing it afterwards (say, to point the call at another trace) is detected.
// Defends: Trace id propagated end to end (receipt in the signed chain, tree heads recomputed by the verifier)
// A call through the router with the agent's traceparent is shipped to the chain (real route, Cosmos stand-in). The
// attacker, with write access to the receipts store, rewrites the receipt's trace id and re-hashes what it can (the
// entry's tree head and link hash: not the signed checkpoint). The verifier recomputing tree heads and checking the
// signed checkpoint names the entry; with `tree-heads` off and no checkpoint (a links-only check) the edit passes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../core/audit/canonical-json';
import { entryId } from '../../core/audit/receipt';
import { silentLogger } from '../../core/ports/logger.port';
import { startIdentityServer, type IdentityServer } from '../../infra/local/identity/identity-server';
import { startReceiptShipping } from '../../sandbox-node/router/audit/start-receipt-shipping';
import { startRouterAuditFixture, type RouterAuditFixture } from '../integration/router/router-audit-fixture';
import { startRouterStack } from '../integration/router/router-stack';
import { chatBody, okJson, startTestUpstream, type TestUpstream } from '../integration/router/test-upstream';
import { rehash } from '../core/audit/tamper';

const AGENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const OTHER_TRACE = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
let identity: IdentityServer;
let upstream: TestUpstream;

beforeAll(async () => {
  identity = await startIdentityServer();
  upstream = await startTestUpstream((_req, res) => okJson(res, { id: 'c1', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
});
afterAll(async () => {
  await upstream?.stop();
  await identity?.stop();
});

/** One call on the agent's trace, shipped to a fresh chain; then its receipt's trace id rewritten in the store. */
async function callThenEdit(audit: RouterAuditFixture, rehashEntry: boolean): Promise<void> {
  const shipper = await startReceiptShipping({
    url: new URL(audit.url), tokenFile: audit.tokenFile('sbx-t3r'), spoolDir: mkdtempSync(join(tmpdir(), 'kars-t3r-')),
    spoolMaxBytes: 1 << 20, maxBuffered: 100, batchSize: 256, batchDelayMs: 20,
  }, silentLogger);
  const s = await startRouterStack({ identity, upstreamUrl: upstream.url, receipts: shipper, sandboxId: 'sbx-t3r' });
  try {
    const r = await fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', traceparent: `00-${AGENT_TRACE}-00f067aa0ba902b7-01` }, body: chatBody(),
    });
    await r.text();
  } finally {
    await s.stop();
    await shipper.stop(5000);
  }
  const [stored] = await audit.routerReceipts();
  expect(stored!.data.subject['traceId']).toBe(AGENT_TRACE);
  expect((await audit.verify({ checkpoint: rehashEntry })).ok).toBe(true);
  // The edit: the receipt now names another trace (the agent's call is no longer linked to it).
  const id = entryId(stored!.chain, 1);
  const found = (await audit.documents.read(stored!.chain, id))!;
  const receipts = (found.doc['receipts'] as string[]).map((leaf) => {
    const l = JSON.parse(leaf) as { data: { subject: Record<string, unknown> }; kind: string; outcome: string; subject: string };
    if (l.kind !== 'router.model') return leaf;
    return canonicalJson({ ...l, data: { ...l.data, subject: { ...l.data.subject, traceId: OTHER_TRACE } } } as never);
  });
  const edited = { ...found.doc, receipts };
  await audit.documents.replace(stored!.chain, rehashEntry ? rehash(edited) : edited, { ifMatch: found.etag });
  expect((await audit.routerReceipts())[0]!.data.subject['traceId']).toBe(OTHER_TRACE);
}

describe('T3-R a router receipt edited after the fact', () => {
  it('ON: the verifier names the edited entry (tree head or signed checkpoint no longer match)', async () => {
    for (const rehashEntry of [false, true]) {
      const audit = await startRouterAuditFixture();
      try {
        await callThenEdit(audit, rehashEntry);
        const report = await audit.verify({ checkpoint: false });
        expect(report.ok, `rehash=${rehashEntry}`).toBe(false);
        expect(report.chains.find((c) => c.break)!.break).toMatchObject({ seq: 1 });
      } finally {
        await audit.stop();
      }
    }
  });

  it('OFF (tree-heads, no checkpoint): a links-only verifier passes the edited receipt', async () => {
    const audit = await startRouterAuditFixture();
    try {
      await callThenEdit(audit, false);
      const report = await audit.verify({ checkpoint: false, _disable: ['tree-heads'] });
      expect(report.ok).toBe(true);
    } finally {
      await audit.stop();
    }
  });
});
