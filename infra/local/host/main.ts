// The Function app process of the local stack: same config, services and route table as in Azure, served by the
// local host, with the local Durable runner standing in for the Durable extension and the queue driver for the
// Service Bus extension. The local-only parts (the runner, the queue driver and the DEV-ONLY demo hooks) are injected
// here; the Azure entry (functions/index.ts) cannot reach them.
import { loadConfig } from '../../../functions/config';
import { loadEdgeSettings } from '../../../functions/hooks/edge-settings';
import { routes } from '../../../functions/routes';
import { buildServices, _setServices } from '../../../functions/services';
import { appHooks } from '../../../functions/app-hooks';
import { registerAppFunctions } from '../../../functions/register-app-functions';
import { createJsonLogger } from '../../../adapters/logging/json-logger';
import { startLocalDurableRunner } from '../durable/local-durable-runner';
import { seedDemoHooks } from './demo-hooks';
import { LocalRouterSandboxDriver } from './local-router-sandbox-driver';
import { startLocalHost } from './local-host';
import { startQueueDriver } from './queue-driver';
import { queueTriggers } from '../../../functions/queue-triggers';

async function main(): Promise<void> {
  const logger = createJsonLogger({ component: 'local-host' });
  const config = loadConfig(process.env);
  const keys = { functionKey: process.env.KARS_LOCAL_FUNCTION_KEY ?? '', masterKey: process.env.KARS_LOCAL_MASTER_KEY ?? '' };
  if (!keys.functionKey || !keys.masterKey) throw new Error('KARS_LOCAL_FUNCTION_KEY and KARS_LOCAL_MASTER_KEY are required');
  registerAppFunctions();
  // Refuses KARS_EDGE_DEMO_HOOKS outside local mode (CONFIG_INVALID) before anything starts.
  const edge = loadEdgeSettings(process.env, config.mode);
  // Rollouts restart the stack's demo routers through its router supervisor (infra/local/start.ts sets both).
  const control = { url: process.env.KARS_LOCAL_ROUTER_CONTROL_URL, key: process.env.KARS_LOCAL_ROUTER_CONTROL_KEY };
  const building = buildServices(config, {
    // The stack keeps the runner's state in a journal (KARS_LOCAL_DURABLE_DIR): acknowledged starts, approvals and
    // episodes survive a SIGKILL, which Azurite's delayed saves do not guarantee.
    startOrchestrationRunner: (options) => startLocalDurableRunner({
      ...options, ...(process.env.KARS_LOCAL_DURABLE_DIR ? { journalDir: process.env.KARS_LOCAL_DURABLE_DIR } : {}),
    }),
    ...(control.url && control.key ? { sandboxDriver: new LocalRouterSandboxDriver({ controlUrl: control.url, controlKey: control.key }) } : {}),
    ...(edge.demoHooks
      ? { prepareHookRegistry: async (registry) => void (await seedDemoHooks(registry, { mode: config.mode, logger })) }
      : {}),
  });
  // Installed before the build ends: the runner starts inside it and resumes rollouts whose activities ask for services.
  _setServices(building);
  const services = await building;
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
