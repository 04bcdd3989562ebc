// Strict unpadded base64url (RFC 4648 §5), the AgentMesh wire's key and signature encoding (AGENTMESH-WIRE-1.0 §6.1):
// one accepted spelling per byte string, so a signature or key cannot be re-spelled to dodge a replay or equality check.

const B64URL_RE = /^[A-Za-z0-9_-]*$/;

/** @returns the bytes, or undefined for padding, other alphabets, non-canonical trailing bits or a wrong length */
export function decodeBase64UrlStrict(text: unknown, expectedBytes?: number): Uint8Array | undefined {
  if (typeof text !== 'string' || !B64URL_RE.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) return undefined;
  if (expectedBytes !== undefined && bytes.length !== expectedBytes) return undefined;
  return new Uint8Array(bytes);
}

export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}
