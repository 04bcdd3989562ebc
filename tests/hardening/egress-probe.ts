// Test helper: connects from inside a namespace as a given UID and reports, per target, what came back and how fast.
import { spawnSync } from 'node:child_process';

export interface ProbeTarget {
  host: string;
  port: number;
  proto?: 'tcp' | 'udp';
}

export interface ProbeResult {
  /** `ok:<body>` for an answer, an errno code (ECONNREFUSED …), or `timeout`. */
  outcome: string;
  ms: number;
}

const script = `const net=require('net'),dgram=require('dgram');const T=JSON.parse(process.argv[1]);
const one=t=>new Promise(res=>{const t0=Date.now();const done=o=>res({outcome:o,ms:Date.now()-t0});
if(t.proto==='udp'){const s=dgram.createSocket('udp4');const tm=setTimeout(()=>{s.close();done('timeout')},1500);
s.on('message',m=>{clearTimeout(tm);s.close();done('ok:'+m)});s.on('error',e=>{clearTimeout(tm);s.close();done(e.code)});
s.send('ping',t.port,t.host,e=>{if(e){clearTimeout(tm);s.close();done(e.code)}});return}
const s=net.connect(t.port,t.host);let b='';const tm=setTimeout(()=>{s.destroy();done('timeout')},3000);
s.on('data',d=>b+=d);s.on('end',()=>{clearTimeout(tm);done('ok:'+b.split('\\r\\n\\r\\n')[1])});
s.on('error',e=>{clearTimeout(tm);done(e.code)})});
(async()=>{const r=[];for(const t of T)r.push(await one(t));console.log(JSON.stringify(r))})();`;

/** Runs the probes sequentially in `ns` as `uid` (root when uid is 0). */
export function probeFrom(ns: string, uid: number, targets: readonly ProbeTarget[]): ProbeResult[] {
  const who = uid === 0 ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];
  const r = spawnSync('ip', ['netns', 'exec', ns, ...who, process.execPath, '-e', script, JSON.stringify(targets)], {
    encoding: 'utf8', timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`probe in ${ns} as ${uid} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as ProbeResult[];
}

/** UDP echo server script fragment for the peer namespace (answers "dns-ok" on the given port). */
export function udpEchoScript(host: string, port: number): string {
  return `const d=require('dgram').createSocket('udp4');d.on('message',(m,r)=>d.send('dns-ok',r.port,r.address));d.bind(${port},'${host}',()=>console.log('listening'));`;
}
