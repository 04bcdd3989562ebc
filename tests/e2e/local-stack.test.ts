// `npm start` end to end: ready line, health of every part, an outage showing within 5 s, an orchestration that
// survives a restart of the whole stack, and a clean shutdown that leaves no process behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { DEMO_HOOK_SECRETS } from '../../infra/local/host/demo-hooks';
import { signStandard } from '../core/edge/edge-fixture';
import { afterAll, describe, expect, it } from 'vitest';

const START = 'dist/infra/local/start.js';
const sample = JSON.parse(readFileSync('local.settings.sample.json', 'utf8')) as { Values: Record<string, string> };
const functionKey = sample.Values.KARS_LOCAL_FUNCTION_KEY!;



const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

interface Stack {
  proc: ChildProcess;
  output: string[];
  pids: Record<string, number>;
  base: string;
  routers: Record<string, string>;
}

const dataDir = mkdtempSync(join(tmpdir(), 'kars-e2e-'));
let env: Record<string, string>;
const running: Stack[] = [];

async function startStack(): Promise<Stack> {
  const proc = spawn(process.execPath, [START], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const stack: Stack = { proc, output, pids: {}, base: '', routers: {} };
  running.push(stack);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line:\n${output.slice(-20).join('\n')}`)), 120_000);
    let buf = '';
    const onData = (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        output.push(line);
        if (line.includes('kars local stack ready')) {
          stack.base = /ready on (http:\/\/127\.0\.0\.1:\d+)\/api/.exec(line)?.[1] ?? '';
          for (const m of line.matchAll(/(\w+) pid=(\d+)/g)) stack.pids[m[1]!] = Number(m[2]);
          for (const m of line.matchAll(/ (demo-sandbox[\w-]*)=(http:\/\/127\.0\.0\.1:\d+)/g)) stack.routers[m[1]!] = m[2]!;
          clearTimeout(timer);
          resolve();
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stack exited ${code}:\n${output.slice(-20).join('\n')}`));
    });
  });
  return stack;
}

async function stopStack(stack: Stack): Promise<number | null> {
  if (stack.proc.exitCode !== null) return stack.proc.exitCode;
  const exited = new Promise<number | null>((r) => stack.proc.once('exit', (code) => r(code)));
  stack.proc.kill('SIGTERM');
  return exited;
}

async function health(base: string): Promise<{ status: number; body: { dependencies: Record<string, { state: string }> } }> {
  const r = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(8000) });
  return { status: r.status, body: (await r.json()) as { dependencies: Record<string, { state: string }> } };
}

afterAll(async () => {
  for (const s of running) {
    await stopStack(s);
    for (const pid of Object.values(s.pids)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start (local stack)', () => {
  it('is built', () => {
    expect(existsSync(START), 'run `npm run build` (npm test does)').toBe(true);
  });

  it('starts, reports every dependency, survives a restart with its orchestration, flags a dead Cosmos, and stops cleanly', async () => {
    // Port 0 everywhere: each service binds a free port itself (picking ports up front races other processes).
    env = {
      KARS_LOCAL_DATA_DIR: dataDir,
      KARS_LOCAL_HTTP_PORT: '0',
      KARS_LOCAL_COSMOS_PORT: '0',
      KARS_LOCAL_SERVICEBUS_PORT: '0',
      KARS_LOCAL_KEYVAULT_PORT: '0',
      KARS_LOCAL_IDENTITY_PORT: '0',
      KARS_LOCAL_AZURITE_PORT: '0',
      KARS_LOCAL_MODEL_PORT: '0',
      KARS_LOCAL_ROUTER_PORT: '0',
      KARS_LOCAL_ROUTER_B_PORT: '0',
    };
    let stack = await startStack();
    const first = await health(stack.base);
    expect(first.status).toBe(200);
    for (const dep of ['cosmos', 'servicebus', 'storage', 'secrets', 'identity', 'durable']) {
      expect(first.body.dependencies[dep]?.state, dep).toBe('ok');
    }

    // Both demo sandboxes' routers are up; the unmodified openai client streams through one (token from the local
    // identity endpoint through @azure/identity, model stand-in over HTTPS with the dev CA).
    expect(Object.keys(stack.routers).sort()).toEqual(['demo-sandbox', 'demo-sandbox-b']);
    const openai = new OpenAI({ baseURL: `${stack.routers['demo-sandbox']}/v1`, apiKey: 'unused-by-the-router', maxRetries: 0 });
    let streamed = '';
    for await (const c of await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello from e2e' }], stream: true })) {
      streamed += c.choices[0]?.delta?.content ?? '';
    }
    expect(streamed).toBe('echo: hello from e2e');
    const b = new OpenAI({ baseURL: `${stack.routers['demo-sandbox-b']}/v1`, apiKey: 'unused', maxRetries: 0 });
    expect((await b.embeddings.create({ model: 'text-embedding-3-small', input: 'x' })).data).toHaveLength(1);

    // A signed demo webhook reaches demo-sandbox's agent through the broker and its router; the ack completes it.
    const hookBody = JSON.stringify({ type: 'kars.demo', timestamp: new Date().toISOString(), data: { hello: 'e2e' } });
    const hook = await fetch(`${stack.base}/api/hooks/standard/hk-demo-standard`, {
      method: 'POST', body: hookBody,
      headers: { 'content-type': 'application/json', ...signStandard(DEMO_HOOK_SECRETS['hk-demo-standard'], 'msg_e2e_events', Math.floor(Date.now() / 1000), hookBody) },
    });
    expect(hook.status).toBe(202);
    const polled = (await (await fetch(`${stack.routers['demo-sandbox']}/v1/events?wait=10`)).json()) as { events: Array<{ id: string; event: { deliveryId: string; payload: unknown } }> };
    expect(polled.events.map((e) => e.event.deliveryId)).toEqual(['msg_e2e_events']);
    expect(polled.events[0]!.event.payload).toEqual(JSON.parse(hookBody));
    expect((await fetch(`${stack.routers['demo-sandbox']}/v1/events/${polled.events[0]!.id}/ack`, { method: 'POST' })).status).toBe(204);
    expect(((await (await fetch(`${stack.routers['demo-sandbox-b']}/v1/events?wait=0`)).json()) as { events: unknown[] }).events).toEqual([]);

    // An orchestration started before the restart is still there after it.
    const started = await fetch(`${stack.base}/api/rollouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': functionKey },
      body: JSON.stringify({ instanceId: 'e2e-restart-1', revision: { id: 'rev-1', spec: { image: 'x' } }, sandboxIds: ['sb-a', 'sb-b'], health: { intervalMs: 3000, maxChecks: 5 } }),
    });
    expect(started.status).toBe(202);
    expect(await stopStack(stack)).toBe(0);
    for (const [name, pid] of Object.entries(stack.pids)) expect(alive(pid), `${name} pid ${pid} after stop`).toBe(false);

    stack = await startStack();
    // It is still there, and the restarted runner drives it on to the end (its durable timer fires after the restart).
    let runtimeStatus = '';
    for (let i = 0; i < 60 && runtimeStatus !== 'Completed'; i++) {
      const status = await fetch(`${stack.base}/api/rollouts/e2e-restart-1`, { headers: { 'x-functions-key': functionKey } });
      expect(status.status).toBe(200);
      const body = (await status.json()) as { instanceId: string; runtimeStatus: string };
      expect(body.instanceId).toBe('e2e-restart-1');
      runtimeStatus = body.runtimeStatus;
      if (runtimeStatus !== 'Completed') await new Promise((r) => setTimeout(r, 500));
    }
    expect(runtimeStatus).toBe('Completed');

    // Killing the Cosmos server shows as down within 5 s.
    process.kill(stack.pids.cosmos!, 'SIGKILL');
    const t0 = Date.now();
    const after = await health(stack.base);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(after.status).toBe(503);
    expect(after.body.dependencies.cosmos?.state).toBe('down');
    expect(after.body.dependencies.storage?.state).toBe('ok');

    expect(await stopStack(stack)).toBe(0);
    for (const [name, pid] of Object.entries(stack.pids)) expect(alive(pid), `${name} pid ${pid} after stop`).toBe(false);
  }, 300_000);
});
