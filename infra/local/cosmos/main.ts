// Runs the local Cosmos stand-in as its own process (the local stack spawns it and kills it by pid). With --data-dir
// its data survives a restart and a SIGKILL (see start-cosmos-server.ts).
import { startCosmosServer } from './start-cosmos-server';

function parseArgs(argv: readonly string[]): { port: number; host: string; dataDir?: string } {
  let port = 0;
  let host = '127.0.0.1';
  let dataDir: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = argv[i + 1];
    if ((arg === '--port' || arg === '-p') && value !== undefined) {
      port = Number(value);
      i += 1;
    } else if (arg === '--host' && value !== undefined) {
      host = value;
      i += 1;
    } else if (arg === '--data-dir' && value !== undefined) {
      dataDir = value;
      i += 1;
    } else {
      throw new Error(`unknown argument ${String(arg)}; usage: main [--port N] [--host H] [--data-dir DIR]`);
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be an integer in 0..65535');
  return { port, host, ...(dataDir !== undefined ? { dataDir } : {}) };
}

async function main(): Promise<void> {
  const { port, host, dataDir } = parseArgs(process.argv.slice(2));
  const server = await startCosmosServer({ port, host, ...(dataDir !== undefined ? { dataDir } : {}) });
  // Fail-stop: memory may be ahead of the disk now, so the process ends rather than serve it.
  server.onJournalFailure((e) => {
    process.stderr.write(`cosmos journal write failed (${(e as { code?: string }).code ?? 'error'}); stopping\n`);
    process.exit(1);
  });
  if (server.restored) {
    const torn = server.restored.tornBytes > 0 ? `, dropped a torn last record (${server.restored.tornBytes} bytes, never acknowledged)` : '';
    process.stdout.write(`cosmos journal: ${server.restored.items} items restored${torn}\n`);
  }
  process.stdout.write(`cosmos server listening on ${server.port}\n`);
  const shutdown = (): void => {
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  process.stderr.write(`cosmos server failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
