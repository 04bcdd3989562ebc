// The Service Bus adapter (real @azure/service-bus SDK) passes the Bus contract against the local broker, reached as
// the stack reaches it: Entra tokens from the identity stand-in, checked by the broker with a role on the namespace.
import { describeBusContract } from '../../contracts/bus.contract';
import { startAuthorizedBroker } from '../../support/authorized-broker';

describeBusContract('service-bus SDK + local broker', async (queues, sessionWaitMs) => {
  const stack = await startAuthorizedBroker({ queues: [...queues], strictQueues: true, appOwnsNamespace: true });
  const bus = stack.bus(stack.app, { sessionWaitMs, operationTimeoutMs: 10_000, healthQueue: 'plain', maxRetries: 3 });
  return { bus, cleanup: () => stack.stop() };
});
