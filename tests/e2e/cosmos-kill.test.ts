// `npm start` keeps its Cosmos data (T1-R, T1-S in local mode): signed webhooks under load, the Cosmos process
// SIGKILLed mid-load, the whole stack restarted on the same data directory; then `kars audit verify` (the CLI, against
// the restarted Cosmos) finds the receipt of every 202, the hook registration is still there, and a captured delivery
// that was accepted before the kill is refused as a replay.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleWebhookBody, signWebhookRequest } from '../../cli/commands/webhook-signing';
import { redact } from '../../core/secrets/redacted';
import { alive, freePortEnv, START, startStackProcess, stopStackProcess, type StackProcess } from './support/local-stack-process';

const sample = JSON.parse(readFileSync('local.settings.sample.json', 'utf8')) as { Values: Record<string, string> };
const masterKey = sample.Values.KARS_LOCAL_MASTER_KEY!;
const dataDir = mkdtempSync(join(tmpdir(), 'kars-e2e-cosmos-kill-'));
const running: StackProcess[] = [];
const HOOK = 'hk-e2e-durable';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Delivery {
  body: string;
  headers: Record<string, string>;
}

function signedDelivery(): Delivery {
  const id = `msg_${randomUUID().replace(/-/g, '')}`;
  const nowMs = Date.now();
  const { body } = sampleWebhookBody('standard', nowMs, id);
  const headers = signWebhookRequest('standard', redact(SECRET), new TextEncoder().encode(body), { id, timestampSec: Math.floor(nowMs / 1000) });
  return { body, headers };
}

async function send(base: string, d: Delivery): Promise<{ status: number; body: string }> {
  const r = await fetch(`${base}/api/hooks/standard/${HOOK}`, { method: 'POST', headers: d.headers, body: d.body, signal: AbortSignal.timeout(15_000) });
  return { status: r.status, body: await r.text() };
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/kars.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

afterAll(async () => {
  for (const s of running) {
    await stopStackProcess(s);
    for (const pid of Object.values(s.pids)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start: Cosmos killed under load', () => {
  it('is built', () => {
    expect(existsSync(START), 'run `npm run build` (npm test does)').toBe(true);
  });

  it('keeps every receipt of a 202, the hook registration and the replay claims across a SIGKILL and a restart', async () => {
    const env = freePortEnv(dataDir);
    let stack = await startStackProcess(env);
    running.push(stack);
    const created = await fetch(`${stack.base}/api/manage/hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': masterKey },
      // A provisioned sandbox: each sandbox's events go to its own queue (T1-E), created with the sandbox.
      body: JSON.stringify({ hookId: HOOK, tenantId: 'e2e-tenant', sandboxId: 'demo-sandbox', channel: 'standard', allowedEventTypes: ['kars.demo'], secret: SECRET }),
    });
    expect(created.status).toBe(201);

    // Load: senders keep going until the Cosmos process has been dead for a while.
    const accepted: Array<{ receiptId: string; delivery: Delivery }> = [];
    const statuses = new Map<number, number>();
    let killedAt = 0;
    let stop = false;
    const base = stack.base;
    const cosmosPid = stack.pids.cosmos!;
    const senders = Array.from({ length: 6 }, async () => {
      while (!stop) {
        const d = signedDelivery();
        let status = 0;
        let body = '';
        try {
          ({ status, body } = await send(base, d));
        } catch {
          status = -1; // timed out or reset: not an acknowledgement
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 202) accepted.push({ receiptId: (JSON.parse(body) as { receiptId: string }).receiptId, delivery: d });
        if (status === 202 && accepted.length === 60 && killedAt === 0) {
          process.kill(cosmosPid, 'SIGKILL');
          killedAt = Date.now();
        }
        if (killedAt > 0 && Date.now() - killedAt > 2000) stop = true;
        if (status === 429) await new Promise((r) => setTimeout(r, 50));
      }
    });
    const guard = setTimeout(() => { stop = true; }, 90_000);
    await Promise.all(senders);
    clearTimeout(guard);
    expect(killedAt, `statuses ${JSON.stringify([...statuses])}`).toBeGreaterThan(0);
    // While Cosmos was down the edge refused (503), it did not accept.
    expect(statuses.get(503) ?? 0, `statuses ${JSON.stringify([...statuses])}`).toBeGreaterThan(0);
    const acceptedBeforeRestart = accepted.length;
    expect(acceptedBeforeRestart).toBeGreaterThanOrEqual(60);

    expect(await stopStackProcess(stack)).toBe(0);
    stack = await startStackProcess(env);
    running.push(stack);
    expect(stack.output.join('\n')).toMatch(/cosmos journal: \d+ items restored/);

    // The CLI, against the restarted Cosmos, verifies every chain and finds every accepted receipt in it.
    const verify = await runCli(['audit', 'verify', '--public-key', join(dataDir, 'audit-public-key.pem'), '--json'], {
      KARS_COSMOS_ENDPOINT: `http://127.0.0.1:${stack.ports.cosmos}`, KARS_COSMOS_KEY: 'dev',
    });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const report = JSON.parse(verify.stdout.split('\n').find((l) => l.startsWith('{'))!) as {
      ok: boolean; receipts: number; chains: Array<{ chain: string; tip?: { seq: number } }>;
    };
    expect(report.ok).toBe(true);
    const tips = new Map(report.chains.map((c) => [c.chain, c.tip?.seq ?? 0]));
    const lost = accepted.filter(({ receiptId }) => {
      const [chain, seq] = receiptId.split(':');
      return (tips.get(chain!) ?? 0) < Number(seq);
    });
    expect(lost.map((a) => a.receiptId)).toEqual([]);
    expect(report.receipts).toBeGreaterThanOrEqual(acceptedBeforeRestart);

    // Captured deliveries accepted before the kill (the last ones were in flight around it) are refused as replays.
    for (const { delivery } of [...accepted.slice(0, 3), ...accepted.slice(-5)]) {
      let r = await send(stack.base, delivery);
      for (let i = 0; r.status === 429 && i < 20; i += 1) {
        await new Promise((res) => setTimeout(res, 200));
        r = await send(stack.base, delivery);
      }
      expect(r.status, r.body).toBe(409);
    }
    // The registration survived too: a fresh delivery is accepted, and its receipt continues a verified chain.
    const fresh = await send(stack.base, signedDelivery());
    expect(fresh.status, fresh.body).toBe(202);
    expect(await stopStackProcess(stack)).toBe(0);
  }, 400_000);
});
