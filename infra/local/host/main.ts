// The Function app process of the local stack: same config, services and route table as in Azure, served by the
// local host, with the local Durable runner standing in for the Durable extension and the queue driver for the
// Service Bus extension.
import { loadConfig } from '../../../functions/config';
import { routes } from '../../../functions/routes';
import { buildServices, _setServices } from '../../../functions/services';
import { appHooks } from '../../../functions/app-hooks';
import { registerAppFunctions } from '../../../functions/register-app-functions';
import { createJsonLogger } from '../../../adapters/logging/json-logger';
import { startLocalHost } from './local-host';
import { startQueueDriver } from './queue-driver';
import { queueTriggers } from '../../../functions/queue-triggers';

async function main(): Promise<void> {
  const logger = createJsonLogger({ component: 'local-host' });
  const config = loadConfig(process.env);
  const keys = { functionKey: process.env.KARS_LOCAL_FUNCTION_KEY ?? '', masterKey: process.env.KARS_LOCAL_MASTER_KEY ?? '' };
  if (!keys.functionKey || !keys.masterKey) throw new Error('KARS_LOCAL_FUNCTION_KEY and KARS_LOCAL_MASTER_KEY are required');
  registerAppFunctions();
  const services = await buildServices(config, { localDurable: true });
  _setServices(services);
  // Service Bus triggers (the trust applier) from the local broker, through the same handlers Azure registers.
  const queues = startQueueDriver({ bus: services.bus, triggers: queueTriggers, logger });
  // The same terminate hooks the Azure host runs (functions/index.ts): the route table registered them in appHooks.
  const host = await startLocalHost({ routes, keys, logger, port: Number(process.env.KARS_HTTP_PORT ?? 7071), hooks: appHooks });
  process.stdout.write(`functions host listening on ${host.port}\n`);
  const stop = async (): Promise<void> => {
    // Runs the terminate hooks (pending pre-auth summary receipts) while the services are still open.
    await host.close();
    await queues.stop();
    await services.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((e: unknown) => {
  process.stderr.write(`functions host failed: ${e instanceof Error ? e.message : 'unknown error'}\n`);
  process.exit(1);
});
