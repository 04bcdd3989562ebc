// Local Service Bus stand-in: the $cbs node. Tokens are accepted unchecked: the broker is a loopback dev tool.
import type { Message } from 'rhea';
import { BrokerError, CONDITION } from './amqp-values';
import type { NodeReply } from './request-node';

/** The SDK sends put-token before every link, even with UseDevelopmentEmulator; it needs status-code 200 back. */
export async function handleCbsRequest(request: Message): Promise<NodeReply> {
  const operation = (request.application_properties as Record<string, unknown> | undefined)?.operation;
  if (operation !== 'put-token') {
    throw new BrokerError(CONDITION.notImplemented, `CBS operation '${String(operation)}' is not supported.`);
  }
  return { status: 200, description: 'OK' };
}
