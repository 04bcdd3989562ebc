// The request hash a receipt holds (T1-R): SHA-256 over a canonical encoding of what identifies the request, so the
// audit chain can prove which request was accepted or refused without keeping bodies, headers or secrets.
import { sha256Hex } from '../crypto/sha256-hex';

/** Fields in hash order. Absent values are null. */
export interface EdgeRequestSubject {
  readonly method: string;
  /** Path without query, fragment or `;`-parameters. */
  readonly path: string;
  readonly channel: string | null;
  readonly hookId: string | null;
  readonly tenantId: string | null;
  /** Only a verified delivery id: an unauthenticated claim is not recorded as fact. */
  readonly deliveryId: string | null;
  /** Lower-case hex SHA-256 of the raw body, null when the body was not (fully) read. */
  readonly bodyDigest: string | null;
}

export const REQUEST_HASH_DOMAIN = 'kars.edge.request.v1';

/**
 * Canonical encoding: the UTF-8 JSON array `[domain, method, path, channel, hookId, tenantId, deliveryId, bodyDigest]`.
 * JSON string escaping makes the encoding injective (no delimiter a field could contain).
 * @returns lower-case hex SHA-256
 * @example requestHash({ method: 'POST', path: '/api/hooks/github/h1', channel: 'github', ... })
 */
export function requestHash(subject: EdgeRequestSubject): string {
  const tuple = [
    REQUEST_HASH_DOMAIN, subject.method, subject.path, subject.channel, subject.hookId, subject.tenantId,
    subject.deliveryId, subject.bodyDigest,
  ];
  return sha256Hex(JSON.stringify(tuple));
}
