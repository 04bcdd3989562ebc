// Maps Azure Storage SDK errors (tables, blobs) to stable KarsError codes at the adapter edge; the SDK message can
// carry account names and URLs, so it stays in `cause` and never reaches a response.
import { KarsError, isKarsError } from '../../core/errors';

interface SdkErrorLike {
  name?: unknown;
  statusCode?: unknown;
  code?: unknown;
}

/** @param what a short, secret-free description of the operation (becomes the message). */
export function translateStorageError(error: unknown, what: string): KarsError {
  if (isKarsError(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorLike;
  if (e.name === 'AbortError') return new KarsError('DEPENDENCY_TIMEOUT', `${what}: storage did not answer in time`, { cause: error });
  switch (e.statusCode) {
    case 404:
      return new KarsError('STORE_NOT_FOUND', `${what}: not found`, { cause: error });
    case 409:
      return new KarsError('STORE_CONFLICT', `${what}: already exists`, { cause: error });
    case 412:
      return new KarsError('STORE_PRECONDITION_FAILED', `${what}: changed since it was read`, { cause: error });
    default:
      return new KarsError('STORE_UNAVAILABLE', `${what}: storage unavailable`, { cause: error });
  }
}
