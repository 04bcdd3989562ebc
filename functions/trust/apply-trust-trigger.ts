// The Service Bus triggered applier of admitted trust updates (T4-E): parse, apply, log the outcome. A message that
// can never apply (schema, signature, issuer) completes without effect, its receipt saying why; a store failure
// throws so the broker redelivers it (same session, same order).
import type { InvocationContext } from '@azure/functions';
import { applyTrustMessage } from '../../core/trust/apply-trust-message';
import type { QueueTriggerDef } from '../queue-trigger-def';
import type { TrustRouteDeps } from './trust-route-deps';
import { TRUST_UPDATES_QUEUE } from '../../adapters/trust/trust-containers';

/** App setting prefix of the trigger's Service Bus connection. */
export const TRUST_QUEUE_CONNECTION = 'KarsServiceBus';

function asJson(message: unknown): unknown {
  if (typeof message === 'string') return JSON.parse(message);
  if (message instanceof Uint8Array) return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(message));
  return message;
}

export function createTrustApplyTrigger(getDeps: () => Promise<TrustRouteDeps>): QueueTriggerDef {
  return {
    name: 'trustApply',
    queueName: TRUST_UPDATES_QUEUE,
    isSessionsEnabled: true,
    connection: TRUST_QUEUE_CONNECTION,
    async handler(message: unknown, _context: InvocationContext) {
      const deps = await getDeps();
      let body: unknown;
      try {
        body = asJson(message);
      } catch {
        body = undefined; // not JSON: the schema refuses it and the receipt records the drop
      }
      const outcome = await applyTrustMessage(deps.apply, body);
      if (outcome.status === 'dropped') deps.logger.warn('trust.apply_dropped', { code: outcome.code });
      else deps.logger.info('trust.applied', { state: outcome.status, seq: outcome.version });
    },
  };
}
