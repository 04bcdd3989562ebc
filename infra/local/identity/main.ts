// Standalone local identity server (`node dist/infra/local/identity/main.js`), for the local stack to run as a child.
// Reads: KARS_IDENTITY_PORT, KARS_IDENTITY_MI_PORT, KARS_TLS_DIR, KARS_TOKEN_LIFETIME_SEC, AZURE_FEDERATED_TOKEN_FILE
// (where to write the projected token), IDENTITY_HEADER (the managed-identity header secret; required, so the
// parent can hand the same value to its clients without this process ever printing it).
import { createJsonLogger } from '../../../adapters/logging/json-logger';
import { startIdentityServer } from './identity-server';

async function main(): Promise<void> {
  const env = process.env;
  const logger = createJsonLogger({ component: 'identity' });
  const identityHeader = env.IDENTITY_HEADER;
  if (!identityHeader || identityHeader.length < 16) {
    logger.error('config.invalid', { name: 'IDENTITY_HEADER', reason: 'missing or shorter than 16 characters' });
    process.exit(2);
  }
  const server = await startIdentityServer({
    port: intOf(env.KARS_IDENTITY_PORT, 0),
    managedIdentityPort: intOf(env.KARS_IDENTITY_MI_PORT, 0),
    tokenLifetimeSec: intOf(env.KARS_TOKEN_LIFETIME_SEC, 3600),
    identityHeader,
    logger,
    ...(env.KARS_TLS_DIR ? { tlsDir: env.KARS_TLS_DIR } : {}),
    ...(env.AZURE_FEDERATED_TOKEN_FILE ? { federatedTokenFile: env.AZURE_FEDERATED_TOKEN_FILE } : {}),
  });
  logger.info('identity.endpoints', { url: server.authorityHost, detail: `tenant=${server.tenantId} client=${server.clientId}` });
  logger.info('identity.managed_identity_endpoint', { url: server.identityEndpoint });
  // The stack's child supervisor waits for this exact phrase.
  process.stdout.write(`identity server listening on ${new URL(server.authorityHost).port}\n`);
  const shutdown = () => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

function intOf(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`expected a non-negative integer setting, got an invalid value`);
  return n;
}

main().catch((e: unknown) => {
  process.stderr.write(`identity server failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});
