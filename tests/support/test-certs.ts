// Throwaway certificates for TLS attack tests (openssl CLI, as infra/local/tls/dev-tls.ts uses): a self-signed server
// certificate nobody trusts (the MITM), and a client CA with one client certificate (mTLS). Never the dev CA: its key
// is deleted after generation, so nothing can be minted under it.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertPair { certPem: string; keyPem: string }

async function inTemp<T>(fn: (f: (name: string) => string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'kars-certs-'));
  try {
    return await fn((name) => path.join(dir, name));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

const ecKey = (out: string) => run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out]);

/** Self-signed, for `name` and 127.0.0.1: what an interceptor without a trusted CA presents. */
export function selfSignedServerCert(name = 'localhost'): Promise<CertPair> {
  return inTemp(async (f) => {
    await ecKey(f('k.pem'));
    await run('openssl', ['req', '-x509', '-new', '-key', f('k.pem'), '-sha256', '-days', '2', '-subj', `/CN=${name}`,
      '-addext', `subjectAltName=DNS:${name},IP:127.0.0.1`, '-out', f('c.pem')]);
    return { certPem: await fs.readFile(f('c.pem'), 'utf8'), keyPem: await fs.readFile(f('k.pem'), 'utf8') };
  });
}

/** A client CA (what an mTLS upstream trusts) and a client certificate it issued. */
export function clientPki(): Promise<{ caPem: string; client: CertPair }> {
  return inTemp(async (f) => {
    await ecKey(f('ca.key'));
    await run('openssl', ['req', '-x509', '-new', '-key', f('ca.key'), '-sha256', '-days', '2', '-subj', '/CN=kars test client CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-out', f('ca.pem')]);
    await ecKey(f('cl.key'));
    await run('openssl', ['req', '-new', '-key', f('cl.key'), '-subj', '/CN=kars-router', '-out', f('cl.csr')]);
    await fs.writeFile(f('cl.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
    await run('openssl', ['x509', '-req', '-in', f('cl.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-days', '2', '-sha256', '-extfile', f('cl.ext'), '-out', f('cl.pem')]);
    return {
      caPem: await fs.readFile(f('ca.pem'), 'utf8'),
      client: { certPem: await fs.readFile(f('cl.pem'), 'utf8'), keyPem: await fs.readFile(f('cl.key'), 'utf8') },
    };
  });
}
