// T2-R / T3-R end to end: calls through a router become receipts in the signed, hash-chained audit log. Real parts:
// the router (in process, and the compiled daemon for the crash case) with its durable spool and HTTP shipper, the
// local Functions host serving `POST /api/audit/router-receipts`, router tokens from the OIDC issuer stand-in, the
// batched appender over the Cosmos stand-in, and the chain verifier of `kars audit verify`.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreakerSet, TOOL_BREAKER_DEFAULTS } from '../../../core/limits/circuit-breaker-set';
import { silentLogger } from '../../../core/ports/logger.port';
import { receiptEgressAudit } from '../../../core/router/egress/egress-refusal-receipt';
import { callReceipt } from '../../../core/router/call-receipt';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';
import { startReceiptShipping } from '../../../sandbox-node/router/audit/start-receipt-shipping';
import { createConnectHandler } from '../../../sandbox-node/router/egress/connect-proxy';
import { connectThrough, codeOf, ScriptedResolver } from '../../support/egress-net';
import { workloadIdentityEnv } from '../identity/local-identity-fixture';
import { startRouterAuditFixture, type RouterAuditFixture } from './router-audit-fixture';
import { startRouterDaemon as startDaemon, stopRouterDaemon } from './router-daemon';
import { startRouterStack } from './router-stack';
import { chatBody, okJson, startTestUpstream, type TestUpstream } from './test-upstream';

const AGENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
let identity: IdentityServer;
let upstream: TestUpstream;
let audit: RouterAuditFixture;

beforeAll(async () => {
  identity = await startIdentityServer();
  upstream = await startTestUpstream((_req, res) => okJson(res, { id: 'chatcmpl-9', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }));
  audit = await startRouterAuditFixture();
});
afterAll(async () => {
  await audit?.stop();
  await upstream?.stop();
  await identity?.stop();
});

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition not reached: ${JSON.stringify(v).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('router receipts in the signed audit chain', () => {
  it('model calls and refused tool tunnels land in the chain with sandbox and trace id; the chain verifies', async () => {
    const sandbox = 'sbx-chain';
    const shipper = await startReceiptShipping({
      url: new URL(audit.url), tokenFile: audit.tokenFile(sandbox), spoolDir: mkdtempSync(join(tmpdir(), 'kars-spool-')),
      spoolMaxBytes: 1 << 20, maxBuffered: 100, batchSize: 256, batchDelayMs: 50,
    }, silentLogger);
    // No egress allowlist: every tunnel is refused, and each refusal is audited (router.tool and router.egress).
    const connect = createConnectHandler(
      { resolver: new ScriptedResolver({}), audit: receiptEgressAudit(shipper), breakers: new CircuitBreakerSet({ nowMs: () => Date.now() }, TOOL_BREAKER_DEFAULTS), clock: { nowMs: () => Date.now() }, logger: silentLogger },
      { sandboxId: sandbox, allowlist: undefined },
    );
    const s = await startRouterStack({ identity, upstreamUrl: upstream.url, receipts: shipper, connect, sandboxId: sandbox });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`${s.url}/v1/chat/completions`, {
          method: 'POST', headers: { 'content-type': 'application/json', traceparent: `00-${AGENT_TRACE}-00f067aa0ba902b${i}-01` }, body: chatBody(),
        });
        expect(r.status).toBe(200);
        await r.text();
      }
      const refused = await connectThrough(Number(new URL(s.url).port), 'tool.example.com:443');
      expect(codeOf(refused)).toBe('EGRESS_HOST_NOT_ALLOWED');
      refused.socket.destroy();
      const mine = await until(async () => (await audit.routerReceipts()).filter((r) => r.subject === sandbox), (l) => l.length === 5);
      const models = mine.filter((r) => r.kind === 'router.model');
      expect(models).toHaveLength(3);
      for (const m of models) {
        expect(m.outcome).toBe('answered');
        expect(m.data.subject).toMatchObject({ sandboxId: sandbox, agentId: sandbox, operation: 'chat', target: 'gpt-4o-mini', traceId: AGENT_TRACE, responseId: 'chatcmpl-9' });
      }
      expect(mine.find((r) => r.kind === 'router.tool')).toMatchObject({ outcome: 'rejected', data: { code: 'EGRESS_HOST_NOT_ALLOWED', subject: { target: 'tool.example.com:443' } } });
      expect(mine.find((r) => r.kind === 'router.egress')).toMatchObject({ outcome: 'rejected', data: { code: 'EGRESS_HOST_NOT_ALLOWED' } });
      // One sandbox, one chain: its receipts keep one order.
      expect(new Set(mine.map((r) => r.chain)).size).toBe(1);
      const report = await audit.verify();
      expect(report.ok).toBe(true);
      expect(report.receipts).toBeGreaterThanOrEqual(5);
    } finally {
      await s.stop();
      await shipper.stop(1000);
    }
  });

  it("refuses a router token of sandbox A posting sandbox B's receipts (403), and a mesh-audience token (401)", async () => {
    const post = (token: string, sandbox: string) => fetch(`${audit.url}/api/audit/router-receipts`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-kars-router-token': token },
      body: JSON.stringify({ receipts: [callReceipt({ kind: 'router.model', sandboxId: sandbox, agentId: sandbox, operation: 'chat', target: 'gpt-4o-mini', traceId: AGENT_TRACE, spanId: '00f067aa0ba902b7', status: 200, atMs: Date.now() })] }),
    });
    const cross = await post(audit.token('sbx-a'), 'sbx-b');
    expect(cross.status).toBe(403);
    expect(await cross.json()).toMatchObject({ code: 'AUTH_FORBIDDEN' });
    const mesh = await post(audit.token('sbx-b', 'kars-mesh'), 'sbx-b');
    expect(mesh.status).toBe(401);
    expect((await audit.routerReceipts()).filter((r) => r.subject === 'sbx-b')).toEqual([]);
    const own = await post(audit.token('sbx-b'), 'sbx-b');
    expect(own.status).toBe(200);
    expect((await own.json() as { ids: string[] }).ids[0]).toMatch(/^[a-z0-9_-]+:\d{12}:\d{3}$/);
  });

  it('a router killed after answering, before shipping, ships the spooled receipts after its restart', async () => {
    const sandbox = 'sbx-crash';
    const spoolDir = mkdtempSync(join(tmpdir(), 'kars-spool-'));
    const tokenFile = audit.tokenFile(sandbox);
    const env = (auditUrl: string): Record<string, string> => ({
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_EXTRA_CA_CERTS: identity.caCertFile,
      KARS_ROUTER_LISTEN: '127.0.0.1:0',
      KARS_SANDBOX_ID: sandbox,
      KARS_ROUTER_MODEL_ENDPOINT: upstream.url,
      KARS_ROUTER_DEPLOYMENTS: 'gpt-4o-mini',
      KARS_ROUTER_AUDIT_URL: auditUrl,
      KARS_ROUTER_AUDIT_TOKEN_FILE: tokenFile,
      KARS_ROUTER_AUDIT_SPOOL_DIR: spoolDir,
      KARS_ROUTER_AUDIT_BATCH_DELAY_MS: '50',
      ...workloadIdentityEnv(identity),
    });
    // First life: the audit writer is unreachable (nothing listens there), so receipts can only be spooled.
    const first = await startDaemon(env('http://127.0.0.1:9/'));
    try {
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`http://127.0.0.1:${first.port}/v1/chat/completions`, {
          method: 'POST', headers: { 'content-type': 'application/json', traceparent: `00-${AGENT_TRACE}-00f067aa0ba902c${i}-01` }, body: chatBody(),
        });
        expect(r.status).toBe(200);
        await r.text();
      }
      await until(async () => spooledLines(spoolDir), (n) => n === 3);
    } finally {
      await stopRouterDaemon(first, 'SIGKILL');
    }
    expect((await audit.routerReceipts()).filter((r) => r.subject === sandbox)).toEqual([]);
    // Second life: the writer is back; the spool left by the killed process is shipped first.
    const second = await startDaemon(env(audit.url));
    try {
      const mine = await until(async () => (await audit.routerReceipts()).filter((r) => r.subject === sandbox), (l) => l.length >= 3);
      expect(mine).toHaveLength(3);
      expect(mine.map((r) => r.data.subject['traceId'])).toEqual([AGENT_TRACE, AGENT_TRACE, AGENT_TRACE]);
      expect(mine.map((r) => r.data.subject['spanId'])).toHaveLength(3);
      expect((await audit.verify()).ok).toBe(true);
      await until(async () => spooledLines(spoolDir), (n) => n === 0);
    } finally {
      await stopRouterDaemon(second);
    }
  });
});

function spooledLines(dir: string): Promise<number> {
  try {
    return Promise.resolve(readFileSync(join(dir, 'receipts.jsonl'), 'utf8').split('\n').filter(Boolean).length);
  } catch {
    return Promise.resolve(0);
  }
}
