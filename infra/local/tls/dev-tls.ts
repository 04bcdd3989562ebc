// Dev-only CA and loopback server certificate (openssl CLI), so the local Entra and Key Vault stand-ins can speak
// HTTPS: MSAL refuses non-https authorities and the Key Vault SDK refuses bearer tokens over http.
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const DEFAULT_TLS_DIR = '.kars-local/tls';
const CA_FILE = 'ca.pem';
const CERT_FILE = 'server.pem';
const KEY_FILE = 'server.key';
const LOCK_FILE = '.lock';
const STALE_LOCK_MS = 60_000;

export interface DevTls {
  dir: string;
  /** Path to the dev CA certificate: what NODE_EXTRA_CA_CERTS should point at. */
  caCertFile: string;
  certFile: string;
  keyFile: string;
  caCertPem: string;
  certPem: string;
  keyPem: string;
}

export interface EnsureDevTlsOptions {
  /** Defaults to KARS_TLS_DIR or `.kars-local/tls` under the current directory. */
  dir?: string;
  /** Regenerate when either certificate expires within this many days. */
  minValidDays?: number;
  validityDays?: number;
}

/** Returns the dev CA + server certificate in `dir`, generating them when missing, invalid or expiring. */
export async function ensureDevTls(options: EnsureDevTlsOptions = {}): Promise<DevTls> {
  const dir = path.resolve(options.dir ?? process.env.KARS_TLS_DIR ?? DEFAULT_TLS_DIR);
  const minValidDays = options.minValidDays ?? 7;
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  // Several forked test workers may start servers at once: one generates, the others wait and reuse.
  const release = await acquireLock(path.join(dir, LOCK_FILE));
  try {
    const existing = await readIfValid(dir, minValidDays);
    if (existing) return existing;
    await generate(dir, options.validityDays ?? 365);
    const fresh = await readIfValid(dir, minValidDays);
    if (!fresh) throw new Error(`dev TLS material in ${dir} failed validation right after generation`);
    return fresh;
  } finally {
    await release();
  }
}

async function readIfValid(dir: string, minValidDays: number): Promise<DevTls | undefined> {
  const files = { caCertFile: path.join(dir, CA_FILE), certFile: path.join(dir, CERT_FILE), keyFile: path.join(dir, KEY_FILE) };
  let caCertPem: string, certPem: string, keyPem: string;
  try {
    [caCertPem, certPem, keyPem] = await Promise.all([
      fs.readFile(files.caCertFile, 'utf8'), fs.readFile(files.certFile, 'utf8'), fs.readFile(files.keyFile, 'utf8'),
    ]);
  } catch {
    return undefined;
  }
  try {
    const ca = new X509Certificate(caCertPem);
    const cert = new X509Certificate(certPem);
    const horizonMs = Date.now() + minValidDays * 86_400_000;
    if (Date.parse(ca.validTo) < horizonMs || Date.parse(cert.validTo) < horizonMs) return undefined;
    if (!ca.ca || !cert.verify(ca.publicKey) || !cert.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    if (!cert.checkIP('127.0.0.1') || !cert.checkHost('localhost')) return undefined;
  } catch {
    return undefined;
  }
  return { dir, ...files, caCertPem, certPem, keyPem };
}

async function generate(dir: string, validityDays: number): Promise<void> {
  const work = await fs.mkdtemp(path.join(dir, '.gen-'));
  try {
    const f = (name: string) => path.join(work, name);
    const openssl = async (args: string[]) => {
      try {
        await run('openssl', args, { cwd: work });
      } catch (e) {
        const err = e as NodeJS.ErrnoException & { stderr?: string };
        if (err.code === 'ENOENT') throw new Error('openssl CLI not found: install the Debian package "openssl"');
        throw new Error(`openssl ${args[0]} failed: ${String(err.stderr ?? err.message).trim()}`);
      }
    };
    const days = String(validityDays);
    // Name constraints: even if someone copied this CA, it can only vouch for loopback names.
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f('ca.key')]);
    await openssl(['req', '-x509', '-new', '-key', f('ca.key'), '-sha256', '-days', days,
      '-subj', '/CN=kars local dev-only CA (never trust outside this machine)',
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-addext', 'nameConstraints=critical,permitted;IP:127.0.0.0/255.0.0.0,permitted;IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF,permitted;DNS:localhost',
      '-out', f(CA_FILE)]);
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f(KEY_FILE)]);
    await openssl(['req', '-new', '-key', f(KEY_FILE), '-subj', '/CN=localhost', '-out', f('server.csr')]);
    await fs.writeFile(f('server.ext'), [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,IP:0:0:0:0:0:0:0:1,DNS:localhost',
    ].join('\n') + '\n');
    await openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f(CA_FILE), '-CAkey', f('ca.key'),
      '-set_serial', '0x' + randomBytes(16).toString('hex'), '-days', days, '-sha256', '-extfile', f('server.ext'),
      '-out', f(CERT_FILE)]);
    await fs.chmod(f(KEY_FILE), 0o600);
    // Files move into place one by one; readers hold the same lock, so they never see a mixed set.
    for (const name of [CA_FILE, KEY_FILE, CERT_FILE]) await fs.rename(f(name), path.join(dir, name));
  } finally {
    // The CA key is deleted on purpose: nothing can mint another certificate under this CA later.
    await fs.rm(work, { recursive: true, force: true });
  }
}

async function acquireLock(lockPath: string): Promise<() => Promise<void>> {
  const token = `${process.pid}-${randomBytes(8).toString('hex')}`;
  const deadline = Date.now() + 2 * STALE_LOCK_MS;
  for (;;) {
    try {
      await fs.writeFile(lockPath, token, { flag: 'wx', mode: 0o600 });
      return async () => {
        const owner = await fs.readFile(lockPath, 'utf8').catch(() => '');
        if (owner === token) await fs.rm(lockPath, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const stat = await fs.stat(lockPath).catch(() => undefined);
      // A crashed generator leaves its lock behind; generation takes well under a second, so 60 s means dead.
      if (stat && Date.now() - stat.mtimeMs > STALE_LOCK_MS) await fs.rm(lockPath, { force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for dev TLS lock ${lockPath}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
