// Runs once in vitest's main process before any worker forks: makes the dev TLS material and exports
// NODE_EXTRA_CA_CERTS, which Node reads only at process start, so every forked worker trusts the dev CA
// (and nothing else changes: verification stays on everywhere).
import { devCaTrustEnv } from '../infra/local/tls/ca-trust';
import { ensureDevTls } from '../infra/local/tls/dev-tls';

export async function setup(): Promise<void> {
  const tls = await ensureDevTls();
  const trust = await devCaTrustEnv(tls);
  process.env.NODE_EXTRA_CA_CERTS = trust.NODE_EXTRA_CA_CERTS;
  process.env.KARS_TLS_DIR = tls.dir;
}
