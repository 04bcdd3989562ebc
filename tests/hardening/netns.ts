// Test helper: throwaway network namespaces joined by a veth pair ("pod" and "peer"), unique per run, always removable.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface NetnsPair {
  readonly pod: string;
  readonly peer: string;
  readonly podAddr: string;
  readonly peerAddr: string;
  /** Also answered by the peer namespace: a stand-in for the instance metadata service. */
  readonly imdsAddr: '169.254.169.254';
  cleanup(): void;
}

export function sh(argv: readonly string[], input?: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input, timeout: 15_000 });
  if (r.error || r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

/** One namespace with only loopback up. */
export function createNetns(tag: string): { name: string; cleanup(): void } {
  const name = `kars-${tag}-${process.pid}-${randomBytes(3).toString('hex')}`;
  sh(['ip', 'netns', 'add', name]);
  const cleanup = (): void => {
    killNetnsPids(name);
    spawnSync('ip', ['netns', 'del', name]);
  };
  try {
    sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  } catch (e) {
    cleanup();
    throw e;
  }
  return { name, cleanup };
}

export function createNetnsPair(tag: string): NetnsPair {
  const pod = createNetns(`${tag}p`);
  let peer: { name: string; cleanup(): void } | undefined;
  const cleanup = (): void => {
    pod.cleanup();
    peer?.cleanup();
  };
  try {
    peer = createNetns(`${tag}q`);
    const podAddr = '10.213.0.2';
    const peerAddr = '10.213.0.1';
    sh(['ip', 'link', 'add', 'name', 'kpod0', 'netns', pod.name, 'type', 'veth', 'peer', 'name', 'kpeer0', 'netns', peer.name]);
    sh(['ip', '-n', pod.name, 'addr', 'add', `${podAddr}/24`, 'dev', 'kpod0']);
    sh(['ip', '-n', peer.name, 'addr', 'add', `${peerAddr}/24`, 'dev', 'kpeer0']);
    sh(['ip', '-n', peer.name, 'addr', 'add', '169.254.169.254/32', 'dev', 'kpeer0']);
    sh(['ip', '-n', pod.name, 'link', 'set', 'kpod0', 'up']);
    sh(['ip', '-n', peer.name, 'link', 'set', 'kpeer0', 'up']);
    sh(['ip', '-n', pod.name, 'route', 'add', 'default', 'via', peerAddr]);
    return { pod: pod.name, peer: peer.name, podAddr, peerAddr, imdsAddr: '169.254.169.254', cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

function killNetnsPids(name: string): void {
  const r = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' });
  for (const pid of (r.stdout ?? '').split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Starts `node -e <script>` inside a namespace as `uid` and resolves once it prints "listening".
 * The script must print "listening" after its servers are bound.
 */
export async function startNodeIn(ns: string, uid: number, script: string): Promise<ChildProcess> {
  const who = uid === 0 ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];
  const child = spawn('ip', ['netns', 'exec', ns, ...who, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server in ${ns} did not start: ${err}`)), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server in ${ns} exited ${String(code)}: ${err}`));
    });
  });
  return child;
}

/** A TCP/HTTP responder that answers every connection with `tag` (router stand-in, peer host, fake IMDS). */
export function responderScript(listen: ReadonlyArray<{ host: string; port: number; tag: string }>): string {
  return `const net=require('net');let n=0;const L=${JSON.stringify(listen)};
for(const l of L){net.createServer(s=>{s.on('error',()=>{});s.end('HTTP/1.1 200 OK\\r\\nContent-Length: '+l.tag.length+'\\r\\nConnection: close\\r\\n\\r\\n'+l.tag)})
.listen(l.port,l.host,()=>{if(++n===L.length)console.log('listening')})}`;
}
