// T2-S "agent impersonates the router" (listener half): the router listens on loopback only and the agent cannot take its port.
// Defends: another pod or host talking to the credential-holding router (non-loopback bind), and an agent that takes port 8443 before the router to pose as it.
// The real router daemon (dist/sandbox-node/router/main.js) refuses a non-loopback listen address unless the dev flag
// is set (then it warns), and drains on SIGTERM. In a pod-like network namespace with the real egress guard and
// kars-jail: the router (UID 1001) on 127.0.0.1:8443 answers the jailed agent (UID 1000), which reaches nothing
// else; another host cannot reach the router; the jailed agent cannot bind 8443 before the router does. Each control
// is also removed to show the attack then works: a 0.0.0.0 router is reachable from the peer host, an agent without
// Landlock takes 8443 first and the router cannot start, and without the guard the agent reaches the peer.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveListenAddress } from '../../core/router/listen-address';
import { applyEgressRules, removeEgressRules } from '../../sandbox-node/egress/apply-egress-rules';
import { probeFrom } from '../hardening/egress-probe';
import { AGENT_UID, ROUTER_UID, createJailHarness, jailArgs, requireRoot, runJailed, type JailHarness } from '../hardening/jail-harness';
import { createNetnsPair, responderScript, startNodeIn, type NetnsPair } from '../hardening/netns';

const MAIN = 'dist/sandbox-node/router/main.js';
const routerEnv = (listen: string, extra: Record<string, string> = {}): Record<string, string> => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  KARS_ROUTER_LISTEN: listen,
  KARS_SANDBOX_ID: 'listener-test',
  KARS_ROUTER_MODEL_ENDPOINT: 'https://example-resource.openai.azure.com',
  KARS_ROUTER_DEPLOYMENTS: 'gpt-4o-mini',
  KARS_ROUTER_DRAIN_MS: '2000',
  ...extra,
});

interface Started {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the port once "listening on" is printed, or rejects with the exit code and output. */
  ready: Promise<number>;
  exited: Promise<number | null>;
}

function startRouter(argvPrefix: readonly string[], env: Record<string, string>): Started {
  const child = spawn(argvPrefix[0] ?? process.execPath, [...argvPrefix.slice(1), ...(argvPrefix.length ? [process.execPath] : []), MAIN], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`router not ready: ${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`router exited ${String(code)}: ${out}`));
    });
  });
  ready.catch(() => undefined);
  return { child, output: () => out, ready, exited };
}

/** GET /healthz from inside a namespace as root: the status, or the error code. */
function healthFrom(ns: string, host: string, port: number): string {
  const script = `require('http').get('http://${host}:${port}/healthz',r=>{r.resume();console.log(r.statusCode)}).on('error',e=>console.log(e.code)).setTimeout(3000,function(){this.destroy();console.log('timeout')})`;
  return spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { encoding: 'utf8', timeout: 10_000 }).stdout.trim();
}

describe('T2-S listen address rule', () => {
  it('ON: non-loopback addresses are refused without the dev flag; OFF (loopback-only): accepted', () => {
    for (const v of ['0.0.0.0:8443', '10.213.0.2:8443', '[::]:8443']) {
      expect(resolveListenAddress(v)).toMatchObject({ ok: false, code: 'ROUTER_LISTEN_NOT_LOOPBACK' });
      expect(resolveListenAddress(v, { loopbackCheck: false })).toMatchObject({ ok: true, value: { exposed: true } });
    }
    expect(resolveListenAddress('127.0.0.1:8443')).toMatchObject({ ok: true, value: { exposed: false } });
  });
});

describe('T2-S the router daemon process', () => {
  it('is built', () => {
    expect(existsSync(MAIN), 'run `npm run build` (npm test does)').toBe(true);
  });

  it('refuses to start on 0.0.0.0 without the flag (exit 2, stable code)', async () => {
    const r = startRouter([], routerEnv('0.0.0.0:0'));
    expect(await r.exited).toBe(2);
    expect(r.output()).toContain('ROUTER_LISTEN_NOT_LOOPBACK');
    expect(r.output()).not.toContain('listening on');
  });

  it('with KARS_ROUTER_ALLOW_NON_LOOPBACK=true it starts and warns; SIGTERM drains and exits 0', async () => {
    const r = startRouter([], routerEnv('0.0.0.0:0', { KARS_ROUTER_ALLOW_NON_LOOPBACK: 'true' }));
    const port = await r.ready;
    expect(r.output()).toContain('router.listen_not_loopback');
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', sandboxId: 'listener-test' });
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  });

  it('a bad setting exits 2 naming the key, never the value', async () => {
    const r = startRouter([], routerEnv('127.0.0.1:0', { KARS_ROUTER_MODEL_ENDPOINT: 'http://evil.example.com/secret-path' }));
    expect(await r.exited).toBe(2);
    expect(r.output()).toContain('KARS_ROUTER_MODEL_ENDPOINT');
    expect(r.output()).not.toContain('secret-path');
  });
});

describe('T2-S in a pod network namespace with the egress guard and kars-jail', () => {
  let h: JailHarness;
  let net: NetnsPair;
  const procs: ChildProcess[] = [];
  const asRouter = (): string[] => ['ip', 'netns', 'exec', net.pod, 'setpriv', `--reuid=${ROUTER_UID}`, `--regid=${ROUTER_UID}`, '--clear-groups'];
  const agentScript = `const http=require('http'),net=require('net');const out={};
const get=()=>new Promise(r=>http.get('http://127.0.0.1:8443/healthz',x=>{let b='';x.on('data',d=>b+=d);x.on('end',()=>r(x.statusCode+' '+b))}).on('error',e=>r(e.code)));
const conn=(h,p)=>new Promise(r=>{const s=net.connect(p,h);s.on('connect',()=>{s.destroy();r('connected')});s.on('error',e=>r(e.code))});
(async()=>{out.router=await get();out.peer=await conn(process.argv[1],9000);console.log(JSON.stringify(out))})();`;

  beforeAll(async () => {
    requireRoot();
    h = createJailHarness();
    net = createNetnsPair('t2sr');
    procs.push(await startNodeIn(net.peer, 0, responderScript([{ host: net.peerAddr, port: 9000, tag: 'peer-ok' }])));
  });
  afterAll(() => {
    for (const p of procs) p.kill('SIGKILL');
    net?.cleanup();
    h?.cleanup();
  });

  it('ON: the jailed agent cannot take 8443 before the router starts; the router then binds it', async () => {
    await applyEgressRules({ netns: net.pod, backend: 'nft' });
    const bind = runJailed(h, [process.execPath, '-e', "require('net').createServer().listen(8443,'127.0.0.1',()=>{console.log('bound');process.exit(0)}).on('error',e=>console.log(e.code))"],
      { prefix: ['ip', 'netns', 'exec', net.pod] });
    expect(bind.stdout.trim()).toBe('EACCES');
    const router = startRouter(asRouter(), routerEnv('127.0.0.1:8443'));
    procs.push(router.child);
    expect(await router.ready).toBe(8443);
  });

  it('ON: the jailed agent reaches the router and nothing else; the peer host cannot reach the router', () => {
    const r = runJailed(h, [process.execPath, '-e', agentScript, net.peerAddr], { prefix: ['ip', 'netns', 'exec', net.pod] });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { router: string; peer: string };
    expect(out.router).toBe('200 {"status":"ok","sandboxId":"listener-test"}');
    expect(out.peer).toBe('EACCES'); // Landlock: connect only to 8443
    // Each layer alone: without Landlock the egress guard still refuses the peer, and still lets the router through.
    const guardOnly = runJailed(h, [process.execPath, '-e', agentScript, net.peerAddr], { prefix: ['ip', 'netns', 'exec', net.pod], skip: ['landlock'] });
    expect(JSON.parse(guardOnly.stdout.trim())).toEqual({ router: '200 {"status":"ok","sandboxId":"listener-test"}', peer: 'ECONNREFUSED' });
    expect(healthFrom(net.peer, net.podAddr, 8443)).toBe('ECONNREFUSED'); // loopback listener: another pod or node has no way in
  });

  it('OFF: without the guard the agent reaches the peer; a 0.0.0.0 router (dev flag) is reachable from the peer host', async () => {
    await removeEgressRules({ netns: net.pod, backend: 'nft' });
    const r = runJailed(h, [process.execPath, '-e', agentScript, net.peerAddr], { prefix: ['ip', 'netns', 'exec', net.pod], skip: ['landlock'] });
    expect(JSON.parse(r.stdout.trim()).peer).toBe('connected');
    const exposed = startRouter(asRouter(), routerEnv('0.0.0.0:8450', { KARS_ROUTER_ALLOW_NON_LOOPBACK: 'true' }));
    procs.push(exposed.child);
    await exposed.ready;
    expect(healthFrom(net.peer, net.podAddr, 8450)).toBe('200');
    exposed.child.kill('SIGTERM');
    expect(await exposed.exited).toBe(0);
  });

  it('OFF: an agent without Landlock takes 8443 first, and the real router cannot start', async () => {
    const ns = createNetnsPair('t2so');
    try {
      const argv = ['ip', 'netns', 'exec', ns.pod, h.jail, ...jailArgs(h, { skip: ['landlock'] }), '--', process.execPath, '-e',
        "require('net').createServer(s=>s.end('HTTP/1.1 200 OK\\r\\ncontent-length: 8\\r\\n\\r\\nimpostor')).listen(8443,'127.0.0.1',()=>console.log('bound'))"];
      const impostor = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      procs.push(impostor);
      await new Promise<void>((resolve, reject) => {
        impostor.stdout!.on('data', (d: Buffer) => d.toString().includes('bound') && resolve());
        impostor.once('exit', (c) => reject(new Error(`impostor exited ${String(c)}`)));
      });
      const router = startRouter(['ip', 'netns', 'exec', ns.pod, 'setpriv', `--reuid=${ROUTER_UID}`, `--regid=${ROUTER_UID}`, '--clear-groups'], routerEnv('127.0.0.1:8443'));
      expect(await router.exited).toBe(2);
      expect(router.output()).toContain('EADDRINUSE');
      const [asAgent] = probeFrom(ns.pod, AGENT_UID, [{ host: '127.0.0.1', port: 8443 }]);
      expect(asAgent!.outcome).toBe('ok:impostor'); // the agent now answers its own "router" calls
      impostor.kill('SIGKILL');
    } finally {
      ns.cleanup();
    }
  });
});
