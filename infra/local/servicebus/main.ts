// Local Service Bus stand-in as a child process: `node dist/infra/local/servicebus/main.js --port 5672 --data-dir d
// --authority-host https://127.0.0.1:8300 --tenant-id <t> --ca-file ca.pem [--role-assignments JSON] [--admin-port 0]`.
// KARS_LOCAL_ADMIN_KEY (env, never argv: argv is visible to every local user) turns the management API on. Without
// --authority-host the broker refuses to start unless --dev-allow-all names the unchecked mode (T1-E).
import { readFileSync } from 'node:fs';
import { createJsonLogger } from '../../../adapters/logging/json-logger';
import { createRemoteAccessTokenVerifier } from '../identity/access-token-verifier';
import { checkRoleAssignment, type RoleAssignment } from './broker-authorization';
import { startServiceBusBroker, type BrokerAuthorizationOptions, type QueueOptions } from './start-broker';

interface Args {
  port: number;
  host: string;
  dataDir: string | undefined;
  strictQueues: boolean;
  queues: QueueOptions[];
  authorityHost: string | undefined;
  tenantId: string | undefined;
  caFile: string | undefined;
  roleAssignments: RoleAssignment[];
  adminPort: number;
  devAllowAll: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    port: 5672, host: '127.0.0.1', dataDir: undefined, strictQueues: false, queues: [], authorityHost: undefined,
    tenantId: undefined, caFile: undefined, roleAssignments: [], adminPort: 0, devAllowAll: false,
  };
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
      case '--authority-host':
        args.authorityHost = value();
        break;
      case '--tenant-id':
        args.tenantId = value();
        break;
      case '--ca-file':
        args.caFile = value();
        break;
      case '--role-assignments':
        args.roleAssignments = (JSON.parse(value()) as unknown[]).map(checkRoleAssignment);
        break;
      case '--admin-port': {
        const port = Number(value());
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--admin-port must be 0..65535');
        args.adminPort = port;
        break;
      }
      case '--dev-allow-all':
        args.devAllowAll = true;
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
  let authorization: BrokerAuthorizationOptions;
  if (args.authorityHost && args.tenantId) {
    const verifyAccessToken = createRemoteAccessTokenVerifier({
      authorityHost: args.authorityHost, tenantId: args.tenantId,
      ...(args.caFile ? { caCertPem: readFileSync(args.caFile, 'utf8') } : {}),
    });
    authorization = { verifyAccessToken, roleAssignments: args.roleAssignments };
  } else if (args.devAllowAll) {
    authorization = 'dev-allow-all';
  } else {
    throw new Error('--authority-host and --tenant-id are required (or --dev-allow-all, for broker mechanics tests only)');
  }
  const adminKey = process.env.KARS_LOCAL_ADMIN_KEY;
  const broker = await startServiceBusBroker({
    host: args.host, port: args.port, dataDir: args.dataDir, strictQueues: args.strictQueues, queues: args.queues, logger,
    authorization, ...(adminKey ? { adminKey, adminPort: args.adminPort } : {}),
  });
  // One readiness line; the management port rides on it so the stack learns both at once.
  const admin = broker.adminUrl ? ` (admin ${new URL(broker.adminUrl).port})` : '';
  process.stdout.write(`servicebus broker listening on ${broker.port}${admin}\n`);
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
