// Standalone local Key Vault (`node dist/infra/local/keyvault/main.js`), for the local stack to run as a child.
// Reads: KARS_KEYVAULT_PORT, AZURE_AUTHORITY_HOST + AZURE_TENANT_ID (the local identity server), KARS_TLS_DIR,
// KARS_KEYVAULT_DATA_DIR (persistence), KARS_KEYVAULT_SEED_FILE (JSON { name: value }, dev-only values),
// KARS_KEYVAULT_ALLOWED_CLIENT_IDS (comma list; default any app of the tenant).
import { promises as fs } from 'node:fs';
import { createJsonLogger } from '../../../adapters/logging/json-logger';
import { startKeyVaultServer } from './keyvault-server';

async function main(): Promise<void> {
  const env = process.env;
  const logger = createJsonLogger({ component: 'keyvault' });
  const authorityHost = env.AZURE_AUTHORITY_HOST;
  const tenantId = env.AZURE_TENANT_ID;
  if (!authorityHost || !tenantId) {
    logger.error('config.invalid', { name: 'AZURE_AUTHORITY_HOST/AZURE_TENANT_ID', reason: 'required' });
    process.exit(2);
  }
  let seed: Record<string, string> | undefined;
  if (env.KARS_KEYVAULT_SEED_FILE) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await fs.readFile(env.KARS_KEYVAULT_SEED_FILE, 'utf8'));
    } catch {
      // Not the parser's message: Node quotes the offending input, which here is secret material.
      parsed = undefined;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) ||
        Object.values(parsed).some((v) => typeof v !== 'string')) {
      logger.error('config.invalid', { name: 'KARS_KEYVAULT_SEED_FILE', reason: 'expected a JSON object of strings' });
      process.exit(2);
    }
    seed = parsed as Record<string, string>;
  }
  const port = env.KARS_KEYVAULT_PORT ? Number(env.KARS_KEYVAULT_PORT) : 0;
  if (!Number.isInteger(port) || port < 0) {
    logger.error('config.invalid', { name: 'KARS_KEYVAULT_PORT', reason: 'expected a port number' });
    process.exit(2);
  }
  const allowed = env.KARS_KEYVAULT_ALLOWED_CLIENT_IDS?.split(',').map((s) => s.trim()).filter(Boolean);
  const server = await startKeyVaultServer({
    authorityHost, tenantId, port, logger,
    ...(env.KARS_TLS_DIR ? { tlsDir: env.KARS_TLS_DIR } : {}),
    ...(env.KARS_KEYVAULT_DATA_DIR ? { dataDir: env.KARS_KEYVAULT_DATA_DIR } : {}),
    ...(seed ? { seed } : {}),
    ...(allowed?.length ? { allowedClientIds: allowed } : {}),
  });
  logger.info('keyvault.ready', { url: server.vaultUrl, count: seed ? Object.keys(seed).length : 0 });
  process.stdout.write(`key vault listening on ${server.port}\n`);
  const shutdown = () => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  process.stderr.write(`key vault failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});
