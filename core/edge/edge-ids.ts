// Identifier shapes the edge accepts (T1-E, T1-I): route segments and registration fields are checked against these
// before they are used as store keys, session ids, secret names or log fields.

/** Hook ids: 3-63 of [A-Za-z0-9-], so `whk-<hookId>-r<n>` stays a valid Key Vault secret name. */
export const HOOK_ID_RE = /^[A-Za-z0-9][A-Za-z0-9-]{2,62}$/;

/** Tenant, sandbox and agent ids: the sandbox id is a Service Bus session id (≤ 128 characters). */
export const ENTITY_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Event names in allowlists: `push`, `user.created`, `app_mention`. */
export const EVENT_NAME_RE = /^[A-Za-z0-9_]{1,64}(?:\.[A-Za-z0-9_]{1,64}){0,7}$/;

export const isHookId = (value: unknown): value is string => typeof value === 'string' && HOOK_ID_RE.test(value);
export const isEntityId = (value: unknown): value is string => typeof value === 'string' && ENTITY_ID_RE.test(value);
export const isEventName = (value: unknown): value is string => typeof value === 'string' && EVENT_NAME_RE.test(value);
