// T1-E: the Service Bus entity that carries one sandbox's webhook events. One queue per sandbox (not a subscription
// of a shared topic): a role assignment scoped to a queue is the smallest grant Azure RBAC offers on Service Bus, the
// queue keeps sessions (session = sandbox id, for ordering) and dead-lettering as the shared queue had them, and the
// edge needs no topic filter it could get wrong. The name is derived, never configured per sandbox, so the edge, the
// router and the provisioning agree on it without a lookup.
import { KarsError } from '../errors';

/** Every sandbox events queue starts with this; no other entity in the namespace does. */
export const SANDBOX_EVENTS_ENTITY_PREFIX = 'sbx-';

/**
 * DNS-1123 label, as SANDBOX_ID_PATTERN of core/rollouts, so `sbx-<id>` is a valid Service Bus queue name (letters,
 * digits, `-`; at most 260) and carries no `/`, `.` or `$` that would name a sub-entity such as `$DeadLetterQueue`.
 */
const SANDBOX_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const ENTITY = /^sbx-([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)$/;

/**
 * `sbx-<sandboxId>`, the queue only that sandbox's identity may receive from.
 * @throws KarsError INPUT_INVALID when the id is not a DNS-1123 label (never guessed into shape)
 */
export function sandboxEventsEntity(sandboxId: string): string {
  if (typeof sandboxId !== 'string' || !SANDBOX_ID.test(sandboxId)) {
    throw new KarsError('INPUT_INVALID', 'sandbox id must be a DNS-1123 label (a-z, 0-9, -; at most 63 characters)');
  }
  return `${SANDBOX_EVENTS_ENTITY_PREFIX}${sandboxId}`;
}

/** The sandbox id a sandbox events queue belongs to, or undefined for any other name (case-sensitive, exact). */
export function sandboxIdOfEventsEntity(entity: string): string | undefined {
  return ENTITY.exec(entity)?.[1];
}
