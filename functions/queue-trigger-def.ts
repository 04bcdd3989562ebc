// One Service Bus queue trigger: functions/index.ts registers it with app.serviceBusQueue, and the local host's queue
// driver (infra/local/host/queue-driver.ts) receives from the local broker and calls the same handler.
import type { InvocationContext } from '@azure/functions';

export interface QueueTriggerDef {
  /** Azure function name; unique. */
  readonly name: string;
  readonly queueName: string;
  readonly isSessionsEnabled: boolean;
  /**
   * App setting prefix of the Service Bus connection (`<name>__fullyQualifiedNamespace` with managed identity in
   * Azure, see docs/trust.md).
   */
  readonly connection: string;
  /** The message body (JSON already parsed by the host). Throwing lets the broker redeliver. */
  readonly handler: (message: unknown, context: InvocationContext) => Promise<void>;
}
