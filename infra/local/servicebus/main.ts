// Local Service Bus stand-in as a child process: `node dist/infra/local/servicebus/main.js --port 5672 --data-dir d`.
import { createJsonLogger } from '../../../adapters/logging/json-logger';
import { startServiceBusBroker, type QueueOptions } from './start-broker';

interface Args {
  port: number;
  host: string;
  dataDir: string | undefined;
  strictQueues: boolean;
  queues: QueueOptions[];
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { port: 5672, host: '127.0.0.1', dataDir: undefined, strictQueues: false, queues: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--port': {
        const port = Number(value());
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0..65535');
        args.port = port;
        break;
      }
      case '--host':
        args.host = value();
        break;
      case '--data-dir':
        args.dataDir = value();
        break;
      case '--strict-queues':
        args.strictQueues = true;
        break;
      case '--queues':
        // JSON array of QueueOptions, e.g. '[{"name":"deliveries","requiresSession":true}]'
        args.queues = JSON.parse(value()) as QueueOptions[];
        break;
      default:
        throw new Error(`unknown argument ${flag}`);
    }
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Logs go to stderr: stdout carries exactly the one readiness line the local stack waits for.
  const logger = createJsonLogger({ component: 'servicebus', write: (line) => process.stderr.write(`${line}\n`) });
  const broker = await startServiceBusBroker({
    host: args.host, port: args.port, dataDir: args.dataDir, strictQueues: args.strictQueues, queues: args.queues, logger,
  });
  process.stdout.write(`servicebus broker listening on ${broker.port}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    broker.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`servicebus broker failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
