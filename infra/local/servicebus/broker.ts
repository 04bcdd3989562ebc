// Local Service Bus stand-in: the AMQP listener; routes each attach to a queue, $cbs or $management handler.
import { createServer, type Server, type Socket } from 'node:net';
import { create_container, type Connection, type EventContext, type Receiver, type Sender, type Session } from 'rhea';
import { asBrokerError, BrokerError, CONDITION, parseEntityAddress } from './amqp-values';
import type { AuthorizationTable, BrokerRight } from './broker-authorization';
import { ConnectionClaims, handleCbsRequest, type CbsTokenVerifier } from './cbs';
import { ConsumerLink } from './consumer-link';
import { handleManagementRequest } from './management';
import { openProducerLink } from './producer-link';
import type { QueueStore } from './queue-store';
import { openReplyLink, openRequestLink } from './request-node';
import { remoteSource, remoteTarget } from './rhea-internals';

export interface ListenOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

/**
 * How the broker authorizes links (T1-E). `verify`: as Service Bus with local auth disabled, every attach needs a
 * verified Entra token put on $cbs for that entity, and its principal needs a role carrying the right on the entity.
 * `dev-allow-all`: no checks; only for tests of the broker's queue mechanics, which must ask for it by name.
 */
export type BrokerAccess =
  | { mode: 'verify'; verify: CbsTokenVerifier; table: AuthorizationTable; onRejected?: (what: string, reason: string) => void }
  | { mode: 'dev-allow-all' };

const isManagementAddress = (address: string): boolean =>
  address === '$management' || address.toLowerCase().endsWith('/$management');

/** Serves one QueueStore over AMQP 1.0 (plain TCP, SASL ANONYMOUS or PLAIN) until closed. */
export class AmqpListener {
  private readonly sockets = new Set<Socket>();
  private readonly consumers = new Map<Connection, Set<ConsumerLink>>();
  private readonly connectionIds = new WeakMap<Connection, string>();
  private readonly claims = new WeakMap<Connection, ConnectionClaims>();
  private nextConnectionId = 1;

  private constructor(private readonly store: QueueStore, private readonly server: Server, private readonly access: BrokerAccess) {}

  static async listen(store: QueueStore, options: ListenOptions, onError: (e: unknown) => void, access: BrokerAccess): Promise<AmqpListener> {
    // A private container per broker: several brokers in one test process must not see each other's events.
    const container = create_container({ id: 'kars-local-servicebus' });
    container.sasl_server_mechanisms.enable_anonymous();
    container.sasl_server_mechanisms.enable_plain(() => true);
    const server = createServer();
    const listener = new AmqpListener(store, server, access);
    server.on('connection', (socket) => {
      listener.sockets.add(socket);
      socket.on('close', () => listener.sockets.delete(socket));
      socket.on('error', () => {});
      // Request/response round trips (CBS, $management, dispositions) would otherwise wait out Nagle + delayed ACK.
      socket.setNoDelay(true);
      container.create_connection({
        sender_options: { autosettle: false, treat_modified_as_released: false },
        receiver_options: { autoaccept: false, credit_window: 100 },
      } as never).accept(socket);
    });
    container.on('sender_open', (ctx: EventContext) => listener.onSenderOpen(ctx));
    container.on('receiver_open', (ctx: EventContext) => listener.onReceiverOpen(ctx));
    container.on('disconnected', (ctx: EventContext) => listener.onConnectionGone(ctx.connection));
    container.on('connection_close', (ctx: EventContext) => listener.onConnectionGone(ctx.connection));
    container.on('session_close', (ctx: EventContext) => listener.onSessionGone(ctx.connection, ctx.session));
    container.on('error', onError);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return listener;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private connectionId(connection: Connection): string {
    let id = this.connectionIds.get(connection);
    if (!id) {
      id = `c${this.nextConnectionId++}`;
      this.connectionIds.set(connection, id);
    }
    return id;
  }

  private claimsOf(connection: Connection): ConnectionClaims {
    let c = this.claims.get(connection);
    if (!c) {
      c = new ConnectionClaims();
      this.claims.set(connection, c);
    }
    return c;
  }

  /**
   * T1-E: the attach goes ahead only when the connection holds an unexpired verified claim for the entity (or the
   * namespace) and its principal holds a role carrying `right` there. A dead-letter queue and an entity's
   * $management node are authorized as the entity (Listen), as in Service Bus. Refused links are detached with
   * amqp:unauthorized-access, which the SDK reports as ServiceBusError code UnauthorizedAccess.
   */
  private authorized(ctx: EventContext, link: Sender | Receiver, address: string, right: BrokerRight): boolean {
    if (this.access.mode === 'dev-allow-all') return true;
    let queue: string;
    try {
      queue = parseEntityAddress(address).queue;
    } catch (e) {
      refuse(link, asBrokerError(e));
      return false;
    }
    const principal = this.claimsOf(ctx.connection).principalFor(queue, Math.floor(Date.now() / 1000));
    if (principal !== undefined && this.access.table.allows(principal, queue, right)) return true;
    this.access.onRejected?.(`attach.${right.toLowerCase()}`, principal === undefined ? 'no_claim' : 'no_role');
    refuse(link, new BrokerError(CONDITION.unauthorized,
      `Unauthorized access. '${right}' claim(s) are required to perform this operation. Resource: '${queue.toLowerCase()}'.`));
    return false;
  }

  private onSenderOpen(ctx: EventContext): void {
    const link = ctx.sender!;
    const address = remoteSource(link)?.address ?? '';
    if (address === '$cbs') {
      openReplyLink(link);
      return;
    }
    if (isManagementAddress(address)) {
      if (!this.authorized(ctx, link, address, 'Listen')) return;
      openReplyLink(link);
      return;
    }
    if (!this.authorized(ctx, link, address, 'Listen')) return;
    const connection = ctx.connection;
    const consumer = ConsumerLink.open(this.store, link, this.connectionId(connection), (c) => {
      this.consumers.get(connection)?.delete(c);
    });
    if (!consumer) return;
    let set = this.consumers.get(connection);
    if (!set) {
      set = new Set();
      this.consumers.set(connection, set);
    }
    set.add(consumer);
  }

  private onReceiverOpen(ctx: EventContext): void {
    const link = ctx.receiver!;
    const target = remoteTarget(link);
    if (!target || typeof target.address !== 'string') {
      // Transaction coordinators and dynamic nodes are not part of the subset this broker speaks.
      link.close(new BrokerError(CONDITION.notImplemented, 'Only queue, $cbs and $management targets are supported.').toAmqp());
      return;
    }
    const address = target.address;
    if (address === '$cbs') {
      const access = this.access;
      if (access.mode === 'dev-allow-all') {
        openRequestLink(link, async () => ({ status: 200, description: 'OK' }));
        return;
      }
      const claims = this.claimsOf(ctx.connection);
      openRequestLink(link, (request) => handleCbsRequest(request, claims, access.verify,
        (principalId, queue) => access.table.coversAny(principalId, queue),
        (reason) => access.onRejected?.('put_token', reason)));
      return;
    }
    if (isManagementAddress(address)) {
      if (!this.authorized(ctx, link, address, 'Listen')) return;
      try {
        parseEntityAddress(address);
        const entity = this.store.entityForAddress(address.replace(/\/\$management$/i, ''));
        const connectionId = this.connectionId(ctx.connection);
        openRequestLink(link, (request) => handleManagementRequest(this.store, entity, connectionId, request));
      } catch (e) {
        link.close(asBrokerError(e).toAmqp());
      }
      return;
    }
    if (!this.authorized(ctx, link, address, 'Send')) return;
    openProducerLink(this.store, link);
  }

  private onConnectionGone(connection: Connection): void {
    const set = this.consumers.get(connection);
    if (!set) return;
    this.consumers.delete(connection);
    for (const c of [...set]) c.disconnected();
  }

  private onSessionGone(connection: Connection, session: Session | undefined): void {
    const set = this.consumers.get(connection);
    if (!set || !session) return;
    for (const c of [...set]) if (c.onSession(session)) c.disconnected();
  }
}

/** Completes the attach handshake (echoing the addresses) and detaches at once with the error, as Service Bus does. */
function refuse(link: Sender | Receiver, error: BrokerError): void {
  link.set_source({ address: remoteSource(link)?.address ?? '' });
  link.set_target({ address: remoteTarget(link)?.address ?? '' });
  link.close(error.toAmqp());
}
