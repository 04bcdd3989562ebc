// `npm run bench -- router`: the sandbox router against the same plain-HTTP upstream stand-in, all in one run.
// Added latency: p50 / p99 of calls at a paced 1,000 rps through the router minus the same calls made directly.
// Throughput: closed-loop calls per second through the router, beside an nginx reverse proxy (Debian `nginx`,
// installed with apt-get when missing) and the Portkey AI gateway (npm @portkey-ai/gateway, run offline with the
// stand-in as its custom host). The router is the real daemon (dist/sandbox-node/router/main.js) with its real
// configuration: rate limits (raised above the bench's rate), token budgets (in-process store: no Cosmos endpoint),
// a span per call (trace ids only: no exporter configured), a receipt per call through the fsync'd spool and the
// shipper to an audit stand-in, a log line per call (to a file), workload-identity token from the local identity server.
// Beside the figures: CPU µs per call of each Node target (/proc), a bare node:http proxy (the floor of any Node
// router), and the router's CPU by part from a profiled run (bench/cpu-profile-breakdown.ts).
// Rounds alternate between targets; figures are medians over rounds. The machine is shared: figures are provisional.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, rmSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startIdentityServer } from '../infra/local/identity/identity-server';
import { devCaTrustEnv } from '../infra/local/tls/ca-trust';
import { ensureDevTls } from '../infra/local/tls/dev-tls';
import { cpuBreakdown, ROUTER_PARTS } from './cpu-profile-breakdown';

const root = resolve(__dirname, '..', '..');
const BODY = JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] });
const ANSWER = JSON.stringify({ id: 'chatcmpl-b', object: 'chat.completion', model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } });

interface Target { name: string; url: string; headers: Record<string, string>; pid?: number }

export async function runRouterBench(options: { rounds?: number; seconds?: number } = {}): Promise<void> {
  const rounds = options.rounds ?? 3;
  const seconds = options.seconds ?? 3;
  const stops: Array<() => unknown> = [];
  try {
    const upstream = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      req.resume();
      req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ANSWER) }); res.end(ANSWER); });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    stops.push(() => upstream.close());
    const up = (upstream.address() as AddressInfo).port;

    const tls = await ensureDevTls();
    const trust = await devCaTrustEnv(tls);
    const identity = await startIdentityServer();
    stops.push(() => identity.stop());
    // The receipts' way to the signed chain, as in a pod: the durable spool (fsync per batch of appends) and the
    // shipper, to a stand-in of the Functions app's receipts route that accepts every batch.
    const audit = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const n = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { receipts: unknown[] }).receipts.length;
        auditReceipts += n;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ids: Array.from({ length: n }, (_, i) => `bench:${auditReceipts - n + i}:0`) }));
      });
    });
    let auditReceipts = 0;
    await new Promise<void>((r) => audit.listen(0, '127.0.0.1', r));
    stops.push(() => audit.close());
    const work = mkdtempSync(join(tmpdir(), 'kars-bench-router-'));
    // KARS_BENCH_KEEP=1 keeps the logs, spools and the router's .cpuprofile for a closer look.
    if (process.env['KARS_BENCH_KEEP'] === '1') console.log(`kept: ${work}`);
    else stops.unshift(() => rmSync(work, { recursive: true, force: true }));
    writeFileSync(join(work, 'audit-token'), 'bench-audit-token', { mode: 0o600 });
    const routerEnv = (name: string): Record<string, string> => ({
      ...trust, KARS_ROUTER_LISTEN: '127.0.0.1:0', KARS_SANDBOX_ID: 'bench-sandbox', KARS_ROUTER_MODEL_ENDPOINT: `http://127.0.0.1:${up}`,
      KARS_ROUTER_DEPLOYMENTS: 'gpt-4o-mini', KARS_LIMIT_GLOBAL_RPS: '100000', KARS_LIMIT_GLOBAL_BURST: '100000',
      KARS_LIMIT_AGENT_RPS: '100000', KARS_LIMIT_AGENT_BURST: '100000',
      AZURE_AUTHORITY_HOST: identity.authorityHost, AZURE_TENANT_ID: identity.tenantId, AZURE_CLIENT_ID: identity.clientId,
      AZURE_FEDERATED_TOKEN_FILE: identity.federatedTokenFile,
      KARS_ROUTER_AUDIT_URL: `http://127.0.0.1:${(audit.address() as AddressInfo).port}`,
      KARS_ROUTER_AUDIT_TOKEN_FILE: join(work, 'audit-token'), KARS_ROUTER_AUDIT_SPOOL_DIR: join(work, `spool-${name}`),
    });
    const routerMain = join(root, 'dist', 'sandbox-node', 'router', 'main.js');
    const router = await startChild('router', process.execPath, [routerMain], routerEnv('router'), /listening on (\d+)/, join(work, 'router.log'));
    stops.push(() => router.child.kill('SIGTERM'));

    const direct: Target = { name: 'direct', url: `http://127.0.0.1:${up}/openai/v1/chat/completions`, headers: {} };
    const viaRouter: Target = { name: 'router', url: `http://127.0.0.1:${router.port}/v1/chat/completions`, headers: {}, ...(router.child.pid ? { pid: router.child.pid } : {}) };
    const bare = await startChild('node proxy', process.execPath, [join(root, 'dist', 'bench', 'node-proxy-anchor.js'), String(up)], {}, /listening on (\d+)/, join(work, 'node-proxy.log'));
    stops.push(() => bare.child.kill('SIGTERM'));
    const targets: Target[] = [viaRouter, { name: 'bare node proxy', url: `http://127.0.0.1:${bare.port}/v1/chat/completions`, headers: {}, ...(bare.child.pid ? { pid: bare.child.pid } : {}) }];
    // KARS_BENCH_ROUTER_BASELINE=<another build's dist/sandbox-node/router/main.js>: that router too, same settings, same run.
    const baselineMain = process.env['KARS_BENCH_ROUTER_BASELINE'];
    if (baselineMain) {
      const base = await startChild('router (baseline)', process.execPath, [baselineMain], routerEnv('baseline'), /listening on (\d+)/, join(work, 'router-baseline.log'));
      stops.push(() => base.child.kill('SIGTERM'));
      targets.push({ name: 'router (baseline)', url: `http://127.0.0.1:${base.port}/v1/chat/completions`, headers: {}, ...(base.child.pid ? { pid: base.child.pid } : {}) });
    }
    const nginx = await startNginx(up).catch((e: unknown) => { console.log(`nginx: not measured (${e instanceof Error ? e.message : 'failed'})`); return undefined; });
    if (nginx) { stops.push(nginx.stop); targets.push({ name: 'nginx', url: `http://127.0.0.1:${nginx.port}/openai/v1/chat/completions`, headers: {} }); }
    const portkey = await startPortkey().catch((e: unknown) => { console.log(`portkey: not measured (${e instanceof Error ? e.message : 'failed'})`); return undefined; });
    if (portkey) {
      stops.push(() => portkey.child.kill('SIGTERM'));
      targets.push({ name: 'portkey', url: `http://127.0.0.1:${portkey.port}/v1/chat/completions`, headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `http://127.0.0.1:${up}/openai/v1`, authorization: 'Bearer bench-not-a-key' }, ...(portkey.child.pid ? { pid: portkey.child.pid } : {}) });
    }

    // Warm-up (connections, token, JIT), and a check that every target answers 200.
    for (const t of [direct, ...targets]) {
      const w = await closedLoop(t, 8, 0.5);
      if (w.ok === 0) throw new Error(`${t.name} answered no call with 200 (statuses ${JSON.stringify(w.statuses)})`);
    }

    const lat = new Map<string, { p50: number[]; p99: number[]; bad: number }>([['direct', { p50: [], p99: [], bad: 0 }], ['router', { p50: [], p99: [], bad: 0 }]]);
    for (let i = 0; i < rounds; i += 1) {
      for (const t of [direct, viaRouter]) {
        const r = await paced(t, 1000, seconds);
        const e = lat.get(t.name)!;
        e.p50.push(r.p50); e.p99.push(r.p99); e.bad += r.bad;
      }
    }
    const d = lat.get('direct')!;
    const rt = lat.get('router')!;
    const added50 = median(rt.p50) - median(d.p50);
    const added99 = median(rt.p99) - median(d.p99);
    console.log(`latency at 1000 rps (median of ${rounds} rounds × ${seconds} s): direct p50 ${fmt(median(d.p50))} ms p99 ${fmt(median(d.p99))} ms; router p50 ${fmt(median(rt.p50))} ms p99 ${fmt(median(rt.p99))} ms; non-200: direct ${d.bad}, router ${rt.bad}`);
    console.log(`router added latency: p50 ${fmt(added50)} ms (goal ≤ 0.2), p99 ${fmt(added99)} ms (goal ≤ 1)`);

    const rps = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    const cpu = new Map<string, { us: number; calls: number }>(targets.map((t) => [t.name, { us: 0, calls: 0 }]));
    for (let i = 0; i < rounds; i += 1) {
      for (const t of targets) {
        const before = t.pid ? cpuUs(t.pid) : 0;
        const r = await closedLoop(t, 32, seconds);
        rps.get(t.name)!.push(r.rps);
        const c = cpu.get(t.name)!;
        if (t.pid) { c.us += cpuUs(t.pid) - before; c.calls += r.ok; }
      }
    }
    const m = (n: string): number | undefined => (rps.get(n)?.length ? median(rps.get(n)!) : undefined);
    const perCall = (n: string): string => { const c = cpu.get(n); return c && c.calls > 0 ? ` (${Math.round(c.us / c.calls)} µs CPU/call)` : ''; };
    const line = targets.map((t) => `${t.name} ${Math.round(m(t.name)!)} rps${perCall(t.name)}`).join(', ');
    console.log(`throughput, 32 concurrent (median of ${rounds} rounds × ${seconds} s): ${line}`);
    const r0 = m('router')!;
    if (m('nginx')) console.log(`router / nginx: ${(r0 / m('nginx')!).toFixed(2)}× (goal ≥ 0.5×)`);
    if (m('portkey')) console.log(`router / portkey: ${(r0 / m('portkey')!).toFixed(2)}× (goal ≥ 2×)`);
    if (m('router (baseline)')) console.log(`router / router (baseline): ${(r0 / m('router (baseline)')!).toFixed(2)}×`);
    const b0 = m('bare node proxy')!;
    console.log(`router / bare node proxy: ${(r0 / b0).toFixed(2)}×; bare node proxy / nginx: ${m('nginx') ? (b0 / m('nginx')!).toFixed(2) : '-'}× (the ceiling of a node:http router)`);
    console.log(`receipts shipped to the audit stand-in: ${auditReceipts}`);

    // Where the router's CPU goes: a second router under V8's sampling profiler (kept apart from the figures above,
    // which it would slow), the same closed loop, samples in the loop's window charged to parts (bench/cpu-profile-breakdown.ts).
    const profDir = join(work, 'prof');
    const profiled = await startChild('router (profiled)', process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=250', routerMain], routerEnv('profiled'), /listening on (\d+)/, join(work, 'router-profiled.log'));
    const pt: Target = { name: 'router (profiled)', url: `http://127.0.0.1:${profiled.port}/v1/chat/completions`, headers: {} };
    await closedLoop(pt, 8, 0.5);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const cpuBefore = profiled.child.pid ? cpuUs(profiled.child.pid) : 0;
    const loop = await closedLoop(pt, 32, seconds);
    const cpuSpent = profiled.child.pid ? cpuUs(profiled.child.pid) - cpuBefore : 0;
    const toUs = Number(process.hrtime.bigint() / 1000n);
    await new Promise<void>((r) => { profiled.child.once('exit', () => r()); profiled.child.kill('SIGTERM'); });
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file || loop.ok === 0) {
      console.log('breakdown: no profile written');
    } else {
      const b = cpuBreakdown(join(profDir, file), ROUTER_PARTS, { fromUs, toUs });
      // Samples are spaced in wall time, which a loaded machine stretches: shares come from the samples, the
      // microseconds from the process's own CPU time over the same loop.
      const scale = cpuSpent > 0 ? cpuSpent / b.totalUs : 1;
      const us = (x: number): string => ((x * scale) / loop.ok).toFixed(0).padStart(5);
      console.log(`router CPU per call, profiled: ${us(b.totalUs).trim()} µs (${loop.ok} calls at ${Math.round(loop.rps)} rps; the profiler's own cost included); by part:`);
      for (const part of b.parts) if (part.us / b.totalUs >= 0.01) console.log(`  ${us(part.us)} µs  ${(100 * part.us / b.totalUs).toFixed(0).padStart(2)}%  ${part.name}`);
      console.log(`  hottest functions (self): ${b.hottest.slice(0, 8).map((h) => `${h.name} ${us(h.us).trim()} µs`).join('; ')}`);
    }
    console.log('provisional: shared, loaded machine; one load generator process; nginx with 1 worker');
  } finally {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => undefined);
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

function call(t: Target): Promise<number> {
  return new Promise((resolvePromise) => {
    const req = http.request(t.url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), ...t.headers } }, (res) => {
      res.resume();
      res.on('end', () => resolvePromise(res.statusCode ?? 0));
      res.on('error', () => resolvePromise(0));
    });
    req.on('error', () => resolvePromise(0));
    req.end(BODY);
  });
}

/** Calls started on a fixed schedule (open loop), latency from the scheduled start. */
async function paced(t: Target, rate: number, seconds: number): Promise<{ p50: number; p99: number; bad: number }> {
  const total = rate * seconds;
  const lat: number[] = [];
  let bad = 0;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait)); // never before its slot
    pending.push(call(t).then((status) => { lat.push(performance.now() - due); if (status !== 200) bad += 1; }));
  }
  await Promise.all(pending);
  lat.sort((a, b) => a - b);
  return { p50: lat[Math.floor(lat.length * 0.5)]!, p99: lat[Math.floor(lat.length * 0.99)]!, bad };
}

async function closedLoop(t: Target, concurrency: number, seconds: number): Promise<{ rps: number; ok: number; statuses: Record<number, number> }> {
  const end = performance.now() + seconds * 1000;
  let ok = 0;
  const statuses: Record<number, number> = {};
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const s = await call(t);
      statuses[s] = (statuses[s] ?? 0) + 1;
      if (s === 200) ok += 1;
    }
  }));
  return { rps: ok / ((performance.now() - start) / 1000), ok, statuses };
}

/** Starts a daemon with its output in `logFile` (as a container runtime keeps it), waiting for `ready` there. */
async function startChild(name: string, cmd: string, args: string[], env: Record<string, string>, ready: RegExp, logFile: string): Promise<{ child: ChildProcess; port: number }> {
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited: number | null | undefined;
  child.once('exit', (code) => { exited = code; });
  for (let i = 0; i < 300; i += 1) {
    const m = ready.exec(readFileSync(logFile, 'utf8').slice(-65_536));
    if (m) return { child, port: Number(m[1]) };
    if (exited !== undefined) throw new Error(`${name} exited ${exited}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`${name} did not start`);
}

/** User + system CPU of a process so far, in microseconds (Linux /proc; clock ticks of 10 ms). */
function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function startNginx(upstreamPort: number): Promise<{ port: number; stop: () => void }> {
  let bin = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  if (!bin) {
    console.log('nginx missing: apt-get install -y nginx');
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'nginx'], { stdio: 'ignore', timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    bin = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  }
  if (!bin) throw new Error('nginx not installed and apt-get could not install it');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kars-bench-nginx-'));
  writeFileSync(join(dir, 'nginx.conf'), `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir};
  upstream u { server 127.0.0.1:${upstreamPort}; keepalive 128; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://u; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
`);
  const child = spawn(bin, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i += 1) {
    const ok = await new Promise<boolean>((r) => { const req = http.get(`http://127.0.0.1:${port}/`, (res) => { res.resume(); r(true); }); req.on('error', () => r(false)); });
    if (ok) return { port, stop: () => child.kill('SIGQUIT') };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('nginx did not start');
}

async function startPortkey(): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const main = join(root, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
  const child = spawn(process.execPath, [main, `--port=${port}`, '--headless'], { stdio: 'ignore', env: { ...process.env, NODE_ENV: 'production' } });
  for (let i = 0; i < 150; i += 1) {
    const ok = await new Promise<boolean>((r) => { const req = http.get(`http://127.0.0.1:${port}/`, (res) => { res.resume(); r(res.statusCode === 200); }); req.on('error', () => r(false)); });
    if (ok) return { child, port };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('the Portkey gateway did not start');
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number): string => ms.toFixed(3);
