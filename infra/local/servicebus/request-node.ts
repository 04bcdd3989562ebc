// Local Service Bus stand-in: request/response nodes ($cbs, <queue>/$management) over a link pair.
import type { Connection, EventContext, Message, Receiver, Sender } from 'rhea';
import { asBrokerError } from './amqp-values';
import { localAttach, remoteSource, remoteTarget } from './rhea-internals';

export interface NodeReply {
  status: number;
  description?: string;
  condition?: string;
  body?: unknown;
}

export type RequestHandler = (request: Message) => Promise<NodeReply>;

/** Echoes the addresses of a reply link (client receiver on $cbs or $management); replies go out on it. */
export function openReplyLink(link: Sender): void {
  link.set_source({ address: remoteSource(link)?.address ?? '' });
  link.set_target({ address: remoteTarget(link)?.address ?? '' });
  // Replies go out pre-settled: an unsettled reply would sit in the session's delivery buffer forever, and after
  // 2048 requests on one session the next reply could no longer be sent.
  localAttach(link).snd_settle_mode = 1;
  link.on('sender_error', () => {});
}

/** Serves requests arriving on `link`, answering each on the connection's reply link for its reply-to address. */
export function openRequestLink(link: Receiver, handler: RequestHandler): void {
  const address = remoteTarget(link)?.address ?? '';
  link.set_target({ address });
  link.set_source({ address: remoteSource(link)?.address ?? '' });
  localAttach(link).max_message_size = 1024 * 1024;
  link.on('receiver_error', () => {});
  link.on('message', (ctx: EventContext) => {
    const request = ctx.message;
    try {
      ctx.delivery?.accept();
    } catch {
      return;
    }
    if (!request) return;
    handler(request).then(
      (reply) => sendReply(ctx.connection, address, request, reply),
      (e: unknown) => {
        const err = asBrokerError(e);
        sendReply(ctx.connection, address, request, { status: err.status, condition: err.condition, description: err.description });
      },
    );
  });
}

function sendReply(connection: Connection, nodeAddress: string, request: Message, reply: NodeReply): void {
  const replyTo = typeof request.reply_to === 'string' ? request.reply_to : undefined;
  const sameNode = (l: Sender): boolean => remoteSource(l)?.address === nodeAddress;
  const link =
    (replyTo ? connection.find_sender((l: Sender) => remoteTarget(l)?.address === replyTo && sameNode(l)) : undefined) ??
    (replyTo ? connection.find_sender((l: Sender) => remoteTarget(l)?.address === replyTo) : undefined) ??
    connection.find_sender(sameNode);
  if (!link || !link.is_open()) return; // the client gave up; its request times out on its side
  const properties: Record<string, unknown> = {
    // core-amqp reads either spelling; peekMessages checks `statusCode` for 204.
    statusCode: reply.status,
    'status-code': reply.status,
    statusDescription: reply.description ?? (reply.status < 300 ? 'OK' : 'Error'),
    'status-description': reply.description ?? (reply.status < 300 ? 'OK' : 'Error'),
  };
  if (reply.condition) {
    properties.errorCondition = reply.condition;
    properties['error-condition'] = reply.condition;
  }
  try {
    link.send({
      correlation_id: request.message_id,
      to: replyTo,
      application_properties: properties,
      body: reply.body ?? null,
    } as Message);
  } catch {
    // link closed between the check and the send
  }
}
