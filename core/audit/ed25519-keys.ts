// Ed25519 key parsing for checkpoint signing (private key from the secret store) and verification (operator's public key).
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { KarsError } from '../errors';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** 32 raw public key bytes. */
export function rawEd25519PublicKey(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ed25519') throw new KarsError('INPUT_INVALID', 'key is not Ed25519');
  const der = pub.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** Key hint stored beside each checkpoint: first 8 bytes of SHA-256(raw public key), hex. Not a secret. */
export function ed25519KeyId(key: KeyObject): string {
  return createHash('sha256').update(rawEd25519PublicKey(key)).digest('hex').slice(0, 16);
}

/**
 * Accepts a PEM SPKI public key, base64 of the 32 raw bytes or of the SPKI DER, or the 32 raw bytes.
 * @throws KarsError INPUT_INVALID
 */
export function parseEd25519PublicKey(input: string | Uint8Array): KeyObject {
  try {
    if (typeof input === 'string' && input.includes('-----BEGIN')) return checkType(createPublicKey(input));
    const bytes = typeof input === 'string' ? decodeBase64(input.trim()) : Buffer.from(input);
    if (bytes.length === 32) return checkType(createPublicKey({ key: Buffer.concat([SPKI_PREFIX, bytes]), format: 'der', type: 'spki' }));
    return checkType(createPublicKey({ key: bytes, format: 'der', type: 'spki' }));
  } catch (e) {
    if (e instanceof KarsError) throw e;
    throw new KarsError('INPUT_INVALID', 'not an Ed25519 public key (PEM, base64 of 32 raw bytes, or SPKI DER)');
  }
}

/**
 * Accepts a PEM PKCS#8 private key, or base64 of the 32-byte seed or of the PKCS#8 DER. The message never echoes input.
 * @throws KarsError CONFIG_INVALID
 */
export function parseEd25519PrivateKey(secret: string): KeyObject {
  let bytes: Buffer | undefined;
  try {
    if (secret.includes('-----BEGIN')) return checkType(createPrivateKey(secret));
    bytes = decodeBase64(secret.trim());
    const der = bytes.length === 32 ? Buffer.concat([PKCS8_PREFIX, bytes]) : bytes;
    const key = checkType(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    if (der !== bytes) der.fill(0);
    return key;
  } catch {
    throw new KarsError('CONFIG_INVALID', 'checkpoint signing secret is not an Ed25519 private key');
  } finally {
    bytes?.fill(0);
  }
}

function checkType(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new KarsError('INPUT_INVALID', 'key is not Ed25519');
  return key;
}

function decodeBase64(s: string): Buffer {
  if (!BASE64.test(s)) throw new KarsError('INPUT_INVALID', 'not base64');
  return Buffer.from(s, s.includes('-') || s.includes('_') ? 'base64url' : 'base64');
}
