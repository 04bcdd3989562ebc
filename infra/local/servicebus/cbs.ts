// LOCAL STAND-IN for Service Bus claims-based security (T1-E): the $cbs node verifies each put-token (an Entra access
// token from the local identity stand-in: signature against its keys, issuer, audience https://servicebus.azure.net,
// expiry, lifetime <= 1 h) and records the token's principal on the connection for the entity named in the request;
// a principal holding no role on that entity is refused here already (status 401, which the SDK reports as
// UnauthorizedAccess), and each link attach is then authorized for its right (broker-authorization.ts). SAS tokens are
// refused: the namespace in bicep/modules/service-bus.bicep has local (SAS) auth disabled.
import type { Message } from 'rhea';
import { BrokerError, CONDITION, parseEntityAddress } from './amqp-values';
import type { NodeReply } from './request-node';

/** The resource Entra access tokens for Service Bus name (scope `https://servicebus.azure.net//.default`). */
export const SERVICE_BUS_AUDIENCE = 'https://servicebus.azure.net';

export type CbsTokenCheck =
  | { ok: true; principalId: string; expSec: number }
  | { ok: false; reason: string };

/** Verifies one CBS token; never throws for a bad token. */
export type CbsTokenVerifier = (token: string) => Promise<CbsTokenCheck>;

interface Claim {
  principalId: string;
  expSec: number;
}

/** The claims put on one connection, by the entity they were put for ('' = the whole namespace). */
export class ConnectionClaims {
  readonly #byEntity = new Map<string, Claim>();

  put(entityKey: string, claim: Claim): void {
    this.#byEntity.set(entityKey, claim);
  }

  /** The principal of an unexpired claim for the queue (or for the namespace), if any. */
  principalFor(queue: string, nowSec: number): string | undefined {
    for (const key of [queue.toLowerCase(), '']) {
      const c = this.#byEntity.get(key);
      if (c && c.expSec > nowSec) return c.principalId;
    }
    return undefined;
  }
}

/**
 * The queue a CBS `name` (the audience URI `sb://<host>/<queue>[/$DeadLetterQueue|/$management]`) speaks for, lower
 * case; '' for the namespace itself. @throws BrokerError for a name that is no queue address
 */
export function claimKeyOf(name: string): string {
  const path = name.replace(/^[a-z]+:\/\/[^/]+\/?/i, '').replace(/^\/+|\/+$/g, '');
  if (path === '') return '';
  return parseEntityAddress(path).queue.toLowerCase();
}

/** The SDK sends put-token before every link; Service Bus answers 401 (status-code) for a token it does not accept. */
export async function handleCbsRequest(
  request: Message, claims: ConnectionClaims, verify: CbsTokenVerifier,
  mayClaim: (principalId: string, queue: string) => boolean, onRejected: (reason: string) => void,
): Promise<NodeReply> {
  const props = (request.application_properties ?? {}) as Record<string, unknown>;
  if (props.operation !== 'put-token') {
    throw new BrokerError(CONDITION.notImplemented, `CBS operation '${String(props.operation)}' is not supported.`);
  }
  const unauthorized = (reason: string, description = 'Unauthorized access. The token was not accepted.'): NodeReply => {
    onRejected(reason);
    // Why a token failed goes to the broker's log, not to the client.
    return { status: 401, condition: CONDITION.unauthorized, description };
  };
  if (typeof props.name !== 'string') return unauthorized('name');
  if (props.type !== 'jwt') return unauthorized('token_type');
  if (typeof request.body !== 'string') return unauthorized('token_body');
  let key: string;
  try {
    key = claimKeyOf(props.name);
  } catch {
    return unauthorized('name');
  }
  const checked = await verify(request.body);
  if (!checked.ok) return unauthorized(checked.reason);
  if (!mayClaim(checked.principalId, key)) {
    return unauthorized('no_role', `Unauthorized access. The principal holds no role on '${key || '/'}'.`);
  }
  claims.put(key, { principalId: checked.principalId, expSec: checked.expSec });
  return { status: 200, description: 'OK' };
}
