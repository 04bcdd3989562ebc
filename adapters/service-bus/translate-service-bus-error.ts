// Maps @azure/service-bus errors to stable KarsError codes at the adapter edge; the SDK message (host names,
// entity paths, tracking ids) stays in `cause` and never reaches a response.
import { KarsError, isKarsError } from '../../core/errors';

interface SdkErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
}

// The SDK throws a plain Error with this text when a message was settled already or its link is gone.
const ALREADY_SETTLED = 'already settled';

/** @param what a short, secret-free description of the operation (becomes the message). */
export function translateServiceBusError(error: unknown, what: string): KarsError {
  if (isKarsError(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorLike;
  if (e.name === 'AbortError') {
    return new KarsError('DEPENDENCY_TIMEOUT', `${what}: Service Bus did not answer in time`, { cause: error });
  }
  switch (e.code) {
    case 'MessagingEntityNotFound':
      return new KarsError('BUS_QUEUE_NOT_FOUND', `${what}: the queue does not exist`, { cause: error });
    case 'MessageLockLost':
    case 'SessionLockLost':
      return new KarsError('BUS_LOCK_LOST', `${what}: the lock expired or was lost`, { cause: error });
    case 'SessionCannotBeLocked':
      return new KarsError('BUS_SESSION_LOCKED', `${what}: the session is locked by another receiver`, { cause: error });
    case 'UnauthorizedAccess':
      // T1-E: the identity holds no role for this operation on this entity (each sandbox reads only its own entity).
      return new KarsError('BUS_UNAUTHORIZED', `${what}: the broker refused this identity on the entity`, { cause: error });
    case 'MessageSizeExceeded':
      return new KarsError('BUS_MESSAGE_TOO_LARGE', `${what}: the message exceeds the maximum size`, { cause: error });
    default:
      break;
  }
  if (typeof e.message === 'string' && e.message.includes(ALREADY_SETTLED)) {
    return new KarsError('BUS_LOCK_LOST', `${what}: the message is no longer locked by this receiver`, { cause: error });
  }
  return new KarsError('BUS_UNAVAILABLE', `${what}: Service Bus unavailable or refused the request`, { cause: error });
}
