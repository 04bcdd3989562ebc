// Local Service Bus broker at the AMQP level (a plain rhea client, no SDK): SASL PLAIN and ANONYMOUS, the $cbs
// put-token answer, and prompt not-implemented answers for management operations and transaction coordinators.
import { create_container, types, type Connection, type EventContext, type Message } from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceBusBroker, type ServiceBusBrokerHandle } from '../../../infra/local/servicebus/start-broker';

// Queue mechanics, not authorization (T1-E's broker checks are in tests/threats/T1-E-sandbox-broker-isolation.test.ts).
const DEV_ALLOW_ALL = 'dev-allow-all' as const;

let broker: ServiceBusBrokerHandle;
beforeAll(async () => {
  broker = await startServiceBusBroker({ authorization: DEV_ALLOW_ALL, queues: [{ name: 'wire' }] });
});
afterAll(async () => {
  await broker?.stop();
});

function connect(options: { username?: string; password?: string }): Promise<Connection> {
  const container = create_container();
  return new Promise((resolve, reject) => {
    const connection = container.connect({ host: '127.0.0.1', port: broker.port, reconnect: false, ...options });
    connection.once('connection_open', () => resolve(connection));
    connection.once('connection_error', (ctx: EventContext) => reject(ctx.connection.error));
    connection.once('disconnected', (ctx: EventContext) => reject(ctx.error ?? new Error('disconnected')));
  });
}

/** Sends one request on `node` and resolves with the reply whose correlation id matches. */
function request(connection: Connection, node: string, message: Message): Promise<Message> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply from ${node}`)), 5000);
    const replyTo = `reply-${Math.random().toString(16).slice(2)}`;
    const receiver = connection.open_receiver({ source: { address: node }, target: { address: replyTo } });
    receiver.on('message', (ctx: EventContext) => {
      const reply = ctx.message;
      if (reply && reply.correlation_id === message.message_id) {
        clearTimeout(timer);
        resolve(reply);
      }
    });
    receiver.once('receiver_open', () => {
      const sender = connection.open_sender({ target: { address: node } });
      sender.once('sendable', () => sender.send({ ...message, reply_to: replyTo } as Message));
    });
  });
}

describe('local Service Bus broker: wire level', () => {
  it('accepts SASL PLAIN and answers $cbs put-token with status-code 200 and the request id as correlation id', async () => {
    const connection = await connect({ username: 'RootManageSharedAccessKey', password: 'anything' });
    try {
      const reply = await request(connection, '$cbs', {
        message_id: 'cbs-req-1',
        application_properties: { operation: 'put-token', type: 'servicebus.windows.net:sastoken', name: 'sb://x/wire' },
        body: 'SharedAccessSignature sr=x&sig=y&se=1&skn=z',
      } as Message);
      expect(reply.correlation_id).toBe('cbs-req-1');
      expect(reply.application_properties?.['status-code']).toBe(200);
    } finally {
      connection.close();
    }
  });

  it('answers an unknown management operation with 501 amqp:not-implemented', async () => {
    const connection = await connect({});
    try {
      const started = Date.now();
      const reply = await request(connection, 'wire/$management', {
        message_id: 'mgmt-req-1',
        application_properties: { operation: 'com.microsoft:schedule-message' },
        body: {},
      } as Message);
      expect(reply.application_properties?.statusCode).toBe(501);
      expect(reply.application_properties?.errorCondition).toBe('amqp:not-implemented');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      connection.close();
    }
  });

  it('detaches a transaction coordinator link with amqp:not-implemented', async () => {
    const connection = await connect({});
    try {
      const error = await new Promise<unknown>((resolve) => {
        // A coordinator target (descriptor 0x30) instead of a queue: Service Bus transactions are not implemented.
        const sender = connection.open_sender({ target: types.described(types.wrap_ulong(0x30), types.wrap_list([])) as never });
        sender.once('sender_close', (ctx: EventContext) => resolve(ctx.sender?.error));
        sender.once('sender_error', (ctx: EventContext) => resolve(ctx.sender?.error));
      });
      expect((error as { condition?: string }).condition).toBe('amqp:not-implemented');
    } finally {
      connection.close();
    }
  });
});
