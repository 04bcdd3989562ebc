// How processes come to trust the dev CA without ever turning certificate verification off.
import { rootCertificates } from 'node:tls';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { DevTls } from './dev-tls';

/**
 * Returns the env a child process needs to trust the dev CA: NODE_EXTRA_CA_CERTS is read once, when a Node process
 * starts, so it must be set before the process (or vitest's forked worker) is spawned. If the caller already has an
 * extra-CA file, both are bundled so that setting is not lost.
 */
export async function devCaTrustEnv(tls: DevTls, env: NodeJS.ProcessEnv = process.env): Promise<{ NODE_EXTRA_CA_CERTS: string }> {
  const existing = env.NODE_EXTRA_CA_CERTS;
  if (!existing || path.resolve(existing) === tls.caCertFile) return { NODE_EXTRA_CA_CERTS: tls.caCertFile };
  const bundle = path.join(tls.dir, 'extra-ca-bundle.pem');
  const theirs = await fs.readFile(existing, 'utf8').catch(() => '');
  if (theirs.includes(tls.caCertPem.trim())) return { NODE_EXTRA_CA_CERTS: existing };
  await fs.writeFile(bundle, `${theirs.trim()}\n${tls.caCertPem.trim()}\n`, { mode: 0o644 });
  return { NODE_EXTRA_CA_CERTS: bundle };
}

/**
 * The per-client alternative for code that is already running (the in-process local stack): Node's public roots
 * plus the dev CA, for an `https.Agent({ ca })` or an Azure SDK client's `tlsOptions.ca`. Nothing global changes.
 */
export function caBundleWithDevCa(caCertPem: string): string[] {
  return [...rootCertificates, caCertPem];
}
