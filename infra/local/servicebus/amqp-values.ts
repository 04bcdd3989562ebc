// Local Service Bus stand-in: AMQP value conversions the Service Bus SDK relies on (ticks, lock tokens, batches).
import { message as rheaMessage, types, uuid_to_string, type Message, type Typed } from 'rhea';

/** Service Bus error conditions the SDK translates into ServiceBusError codes. */
export const CONDITION = {
  notFound: 'amqp:not-found',
  notImplemented: 'amqp:not-implemented',
  notAllowed: 'amqp:not-allowed',
  unauthorized: 'amqp:unauthorized-access',
  internal: 'amqp:internal-error',
  invalidField: 'amqp:invalid-field',
  messageSizeExceeded: 'amqp:link:message-size-exceeded',
  timeout: 'com.microsoft:timeout',
  messageLockLost: 'com.microsoft:message-lock-lost',
  sessionLockLost: 'com.microsoft:session-lock-lost',
  sessionCannotBeLocked: 'com.microsoft:session-cannot-be-locked',
  argumentError: 'com.microsoft:argument-error',
} as const;

const STATUS_OF_CONDITION: Record<string, number> = {
  [CONDITION.notFound]: 404,
  [CONDITION.notImplemented]: 501,
  [CONDITION.notAllowed]: 403,
  [CONDITION.unauthorized]: 401,
  [CONDITION.internal]: 500,
  [CONDITION.invalidField]: 400,
  [CONDITION.messageSizeExceeded]: 403,
  [CONDITION.timeout]: 408,
  [CONDITION.messageLockLost]: 410,
  [CONDITION.sessionLockLost]: 410,
  [CONDITION.sessionCannotBeLocked]: 410,
  [CONDITION.argumentError]: 400,
};

/** An expected refusal, sent to the client as an AMQP error (link detach, rejected outcome or management status). */
export class BrokerError extends Error {
  override readonly name = 'BrokerError';
  constructor(readonly condition: string, readonly description: string) {
    super(description);
  }
  get status(): number {
    return STATUS_OF_CONDITION[this.condition] ?? 500;
  }
  toAmqp(): { condition: string; description: string } {
    return { condition: this.condition, description: this.description };
  }
}

/** Any thrown value as a BrokerError; unknown failures become internal errors without leaking internals. */
export function asBrokerError(e: unknown): BrokerError {
  if (e instanceof BrokerError) return e;
  return new BrokerError(CONDITION.internal, 'The broker failed to process the request.');
}

// .NET ticks (100 ns since 0001-01-01) of the Unix epoch: the SDK reads com.microsoft:locked-until-utc in ticks.
const UNIX_EPOCH_TICKS = 621355968000000000n;

/** Milliseconds since the Unix epoch as an AMQP long holding .NET ticks. */
export function ticksLong(ms: number): Typed {
  const buf = Buffer.alloc(8);
  buf.writeBigInt64BE(BigInt(Math.trunc(ms)) * 10000n + UNIX_EPOCH_TICKS);
  return types.wrap_long(buf);
}

/** An AMQP long as decoded by rhea (a number when it fits, else 8 big-endian bytes). */
export function readLong(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE(0));
  return undefined;
}

/**
 * The lock token string the SDK shows for a 16-byte delivery tag. The SDK swaps the first three groups
 * (the .NET Guid byte order) before formatting; management requests then carry the formatted bytes.
 */
export function lockTokenOfTag(tag: Buffer): string {
  const t = Buffer.from([tag[3]!, tag[2]!, tag[1]!, tag[0]!, tag[5]!, tag[4]!, tag[7]!, tag[6]!, ...tag.subarray(8, 16)]);
  return uuid_to_string(t);
}

/** The lock token string of a uuid received in a management request body. */
export function lockTokenOfUuid(value: unknown): string | undefined {
  if (Buffer.isBuffer(value) && value.length === 16) return uuid_to_string(value);
  if (typeof value === 'string' && /^[0-9a-f-]{36}$/i.test(value)) return value.toLowerCase();
  return undefined;
}

/** Message ids may be strings, numbers, uuids or binary; duplicate detection compares their text. */
export function messageIdText(id: unknown): string | undefined {
  if (id === undefined || id === null) return undefined;
  if (typeof id === 'string') return id;
  if (typeof id === 'number') return String(id);
  if (Buffer.isBuffer(id)) return id.length === 16 ? uuid_to_string(id) : id.toString('hex');
  return undefined;
}

/** Decodes one AMQP message (rhea's decode and its exported Message type come from two typings files). */
export function decodeMessage(payload: Buffer): Message {
  return rheaMessage.decode(payload) as unknown as Message;
}

/** Message format the SDK uses for a batch: an envelope whose data sections each hold one encoded message. */
export const BATCH_MESSAGE_FORMAT = 0x80013700;

/** Splits a batch envelope into its messages. @throws BrokerError when the envelope is malformed. */
export function decodeBatch(payload: Buffer): Message[] {
  let envelope: Message;
  try {
    envelope = decodeMessage(payload);
  } catch {
    throw new BrokerError(CONDITION.invalidField, 'The batch envelope could not be decoded.');
  }
  const body = envelope.body as { typecode?: number; content?: unknown; multiple?: boolean } | undefined;
  if (!body || body.typecode !== 0x75) {
    throw new BrokerError(CONDITION.invalidField, 'A batch envelope must carry its messages as data sections.');
  }
  const parts = body.multiple ? (body.content as unknown[]) : [body.content];
  return parts.map((part) => {
    if (!Buffer.isBuffer(part)) throw new BrokerError(CONDITION.invalidField, 'A batch data section is not binary.');
    try {
      return decodeMessage(part);
    } catch {
      throw new BrokerError(CONDITION.invalidField, 'A message inside the batch could not be decoded.');
    }
  });
}

export interface ParsedAddress {
  /** Queue name as given (entity names are case-insensitive). */
  queue: string;
  deadLetter: boolean;
  management: boolean;
}

/**
 * Parses `<queue>`, `<queue>/$DeadLetterQueue` and their `/$management` nodes (case-insensitive). Anything else
 * (topics, subscriptions, transfer queues) is not implemented here. @throws BrokerError
 */
export function parseEntityAddress(address: string): ParsedAddress {
  // Clients may send the full amqps://host/path form.
  const path = address.replace(/^[a-z]+:\/\/[^/]+\//i, '').replace(/^\/+/, '');
  const parts = path.split('/');
  let management = false;
  if (parts.length > 1 && parts[parts.length - 1]!.toLowerCase() === '$management') {
    management = true;
    parts.pop();
  }
  let deadLetter = false;
  if (parts.length === 2 && parts[1]!.toLowerCase() === '$deadletterqueue') {
    deadLetter = true;
    parts.pop();
  }
  if (parts.length !== 1 || !parts[0]) {
    throw new BrokerError(CONDITION.notImplemented, `The address '${address}' is not supported by the local broker (queues only).`);
  }
  return { queue: parts[0], deadLetter, management };
}
