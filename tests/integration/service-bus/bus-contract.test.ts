// The Service Bus adapter (real @azure/service-bus SDK) passes the Bus contract against the local broker.
import { createServiceBusBus } from '../../../adapters/service-bus/create-service-bus-bus';
import { startServiceBusBroker } from '../../../infra/local/servicebus/start-broker';
import { describeBusContract } from '../../contracts/bus.contract';

describeBusContract('service-bus SDK + local broker', async (queues, sessionWaitMs) => {
  const broker = await startServiceBusBroker({ queues: [...queues], strictQueues: true });
  const bus = createServiceBusBus({
    connectionString: broker.connectionString, sessionWaitMs, operationTimeoutMs: 10_000, healthQueue: 'plain',
  });
  return { bus, cleanup: () => broker.stop() };
});
