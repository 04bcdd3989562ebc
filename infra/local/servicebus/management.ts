// Local Service Bus stand-in: the <queue>/$management node (lock renewal, settlement, sessions, peek).
import type { Message } from 'rhea';
import { BrokerError, CONDITION, lockTokenOfUuid, readLong } from './amqp-values';
import type { Entity } from './queue-entities';
import type { QueueStore, Settlement } from './queue-store';
import type { NodeReply } from './request-node';

type Body = Record<string, unknown>;

function tokensOf(body: Body): string[] {
  const raw = body['lock-tokens'];
  const list = Array.isArray(raw) ? raw : [];
  const tokens = list.map(lockTokenOfUuid);
  if (tokens.length === 0 || tokens.some((t) => t === undefined)) {
    throw new BrokerError(CONDITION.argumentError, 'lock-tokens must be a non-empty array of uuids.');
  }
  return tokens as string[];
}

function sessionIdOf(body: Body): string {
  const id = body['session-id'];
  if (typeof id !== 'string') throw new BrokerError(CONDITION.argumentError, 'session-id is required.');
  return id;
}

function settlementOf(body: Body): Settlement {
  const status = body['disposition-status'];
  switch (status) {
    case 'completed':
      return { kind: 'complete' };
    case 'abandoned':
      return { kind: 'abandon' };
    case 'defered':
      return { kind: 'defer' };
    case 'suspended': {
      const reason = body['deadletter-reason'];
      const description = body['deadletter-description'];
      const properties = body['properties-to-modify'];
      return {
        kind: 'deadLetter',
        reason: typeof reason === 'string' ? reason : undefined,
        description: typeof description === 'string' ? description : undefined,
        properties: properties && typeof properties === 'object' ? (properties as Record<string, unknown>) : undefined,
      };
    }
    default:
      throw new BrokerError(CONDITION.argumentError, `Unknown disposition-status '${String(status)}'.`);
  }
}

/** Handles one management request for `entity` on behalf of the client connection `connectionId`. */
export async function handleManagementRequest(
  store: QueueStore, entity: Entity, connectionId: string, request: Message,
): Promise<NodeReply> {
  const operation = (request.application_properties as Record<string, unknown> | undefined)?.operation;
  const body: Body = request.body && typeof request.body === 'object' ? (request.body as Body) : {};
  switch (operation) {
    case 'com.microsoft:renew-lock': {
      const expirations = tokensOf(body).map((t) => new Date(store.renewMessageLock(t)));
      return { status: 200, body: { expirations } };
    }
    case 'com.microsoft:update-disposition': {
      const settlement = settlementOf(body);
      for (const token of tokensOf(body)) await store.settle(token, settlement);
      return { status: 200, body: {} };
    }
    case 'com.microsoft:renew-session-lock': {
      const expiration = store.sessions.renew(entity, sessionIdOf(body), connectionId);
      return { status: 200, body: { expiration: new Date(expiration) } };
    }
    case 'com.microsoft:get-session-state': {
      const state = store.sessions.getState(entity, sessionIdOf(body), connectionId);
      return { status: 200, body: { 'session-state': state } };
    }
    case 'com.microsoft:set-session-state': {
      const raw = body['session-state'];
      const state = Buffer.isBuffer(raw) ? raw : raw === null || raw === undefined ? null : undefined;
      if (state === undefined) throw new BrokerError(CONDITION.argumentError, 'session-state must be binary or null.');
      await store.sessions.setState(entity, sessionIdOf(body), connectionId, state);
      return { status: 200, body: {} };
    }
    case 'com.microsoft:peek-message': {
      const from = readLong(body['from-sequence-number']) ?? 0;
      const count = readLong(body['message-count']) ?? 1;
      const sessionId = typeof body['session-id'] === 'string' ? body['session-id'] : undefined;
      const messages = store.peek(entity, from, Math.max(1, Math.min(count, 1000)), sessionId);
      if (messages.length === 0) return { status: 204, description: 'No messages', body: { messages: [] } };
      return { status: 200, body: { messages: messages.map((message) => ({ message })) } };
    }
    default:
      throw new BrokerError(CONDITION.notImplemented,
        `Management operation '${String(operation)}' is not supported by the local broker.`);
  }
}
