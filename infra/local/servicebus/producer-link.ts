// Local Service Bus stand-in: a client's sender link; a send is acknowledged only once it is durable.
import { message as rheaMessage, type EventContext, type Message, type Receiver } from 'rhea';
import { asBrokerError, BATCH_MESSAGE_FORMAT, BrokerError, CONDITION, decodeBatch } from './amqp-values';
import { MAX_MESSAGE_SIZE_BYTES } from './consumer-link';
import type { Entity } from './queue-entities';
import type { QueueStore } from './queue-store';
import { localAttach, remoteSource, remoteTarget } from './rhea-internals';

/** Answers a client's sender attach to a queue, then enqueues each delivery (single message or batch). */
export function openProducerLink(store: QueueStore, link: Receiver): void {
  const address = remoteTarget(link)?.address ?? '';
  link.set_target({ address });
  link.set_source({ address: remoteSource(link)?.address ?? '' });
  // The SDK sizes its batches from this; without it createMessageBatch produces batches the broker cannot read.
  localAttach(link).max_message_size = MAX_MESSAGE_SIZE_BYTES;
  let entity: Entity;
  try {
    entity = store.entityForAddress(address);
    if (entity.isDeadLetter) {
      throw new BrokerError(CONDITION.notAllowed, `Cannot send to the dead-letter queue '${entity.name}'.`);
    }
  } catch (e) {
    link.close(asBrokerError(e).toAmqp());
    return;
  }
  link.on('receiver_error', () => {});
  link.on('message', (ctx: EventContext) => {
    const delivery = ctx.delivery;
    if (!delivery) return;
    const format = (ctx as { format?: number }).format ?? 0;
    let messages: Message[];
    try {
      let size: number;
      if (format === BATCH_MESSAGE_FORMAT) {
        const payload = ctx.message as unknown as Buffer;
        size = payload.length;
        messages = decodeBatch(payload);
      } else if (format === 0 && ctx.message) {
        // rhea hands over the decoded message only; its encoding is the size Service Bus would count.
        size = rheaMessage.encode(ctx.message).length;
        messages = [ctx.message];
      } else {
        throw new BrokerError(CONDITION.notImplemented, `Message format ${format} is not supported.`);
      }
      if (size > MAX_MESSAGE_SIZE_BYTES) {
        throw new BrokerError(CONDITION.messageSizeExceeded,
          `The message of ${size} bytes exceeds the maximum size of ${MAX_MESSAGE_SIZE_BYTES} bytes.`);
      }
    } catch (e) {
      settle(() => delivery.reject(asBrokerError(e).toAmqp()));
      return;
    }
    store.accept(entity, messages).then(
      () => settle(() => delivery.accept()),
      (e: unknown) => settle(() => delivery.reject(asBrokerError(e).toAmqp())),
    );
  });
}

function settle(action: () => void): void {
  try {
    action();
  } catch {
    // link or connection closed meanwhile: the client never saw an acknowledgement
  }
}
