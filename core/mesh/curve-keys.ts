// T4-S/T4-T: X25519 and Ed25519 on raw 32-byte keys through node:crypto (native; the AGT SDK's JavaScript X25519 is
// what makes its ratchet slow), plus the Ed25519 → X25519 identity conversion the AgentMesh wire uses (wire spec §4.4).
import { createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, sign, timingSafeEqual, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { abytes } from '../crypto/assert';

const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

export interface X25519KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

const rawTail = (der: Buffer): Uint8Array => new Uint8Array(der.subarray(der.length - 32));
const b64url = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
const fromB64url = (text: string | undefined): Uint8Array => new Uint8Array(Buffer.from(text ?? '', 'base64url'));

// Node's PKCS#8 import of an X25519 key costs ~10× a DH here; JWK import and a cache of the KeyObject per key array
// (keyed by identity, so the ratchet's own dhSelf and dhRemote hit it) keep a DH ratchet step near the cost of its two
// DHs and one key generation. Each entry keeps a copy of the bytes it was made from and is used only while the array
// still holds them (compared in constant time), so an array rewritten in place can never reach a stale key.
interface CachedKey {
  readonly bytes: Buffer;
  readonly key: KeyObject;
}
const privateObjects = new WeakMap<Uint8Array, CachedKey>();
const publicObjects = new WeakMap<Uint8Array, CachedKey>();

function cached(cache: WeakMap<Uint8Array, CachedKey>, raw: Uint8Array, make: () => KeyObject): KeyObject {
  const hit = cache.get(raw);
  if (hit !== undefined && timingSafeEqual(hit.bytes, raw)) return hit.key;
  const key = make();
  cache.set(raw, { bytes: Buffer.from(raw), key });
  return key;
}

function x25519PrivateObject(privateKey: Uint8Array): KeyObject {
  return cached(privateObjects, privateKey, () =>
    createPrivateKey({ key: Buffer.concat([X25519_PKCS8, privateKey]), format: 'der', type: 'pkcs8' }));
}

/** A fresh X25519 key pair from the OS random source. */
export function generateX25519KeyPair(): X25519KeyPair {
  const { privateKey: key } = generateKeyPairSync('x25519');
  const jwk = key.export({ format: 'jwk' });
  const pair = { privateKey: fromB64url(jwk.d), publicKey: fromB64url(jwk.x) };
  privateObjects.set(pair.privateKey, { bytes: Buffer.from(pair.privateKey), key });
  return pair;
}

/**
 * The X25519 public key of a 32-byte private scalar (clamped as RFC 7748 §5 says, as every X25519 implementation does).
 * @throws {TypeError|RangeError} when `privateKey` is not 32 bytes
 */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  abytes(privateKey, 32, 'privateKey');
  return fromB64url(createPublicKey(x25519PrivateObject(privateKey)).export({ format: 'jwk' }).x);
}

/**
 * X25519(privateKey, publicKey). OpenSSL refuses an all-zero output (a small-order peer key), so such a key throws.
 * @throws {TypeError|RangeError} on wrong lengths; Error on a small-order public key
 */
export function x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  abytes(privateKey, 32, 'privateKey');
  abytes(publicKey, 32, 'publicKey');
  const pub = cached(publicObjects, publicKey, () => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(publicKey) }, format: 'jwk' }));
  return new Uint8Array(diffieHellman({ privateKey: x25519PrivateObject(privateKey), publicKey: pub }));
}

/** Ed25519 public key of a 32-byte seed. @throws {TypeError|RangeError} when `seed` is not 32 bytes */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  abytes(seed, 32, 'seed');
  return rawTail(createPublicKey(ed25519PrivateObject(seed)).export({ format: 'der', type: 'spki' }));
}

/** Ed25519 signature (64 bytes) over `message` with a 32-byte seed. */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  abytes(seed, 32, 'seed');
  abytes(message, undefined, 'message');
  return new Uint8Array(sign(null, message, ed25519PrivateObject(seed)));
}

/**
 * Verifies an Ed25519 signature. False for a malformed key or signature as for a wrong one: the caller learns only
 * "refused" (a verifier that explains itself is an oracle).
 * @throws {TypeError|RangeError} when an argument is not a Uint8Array of the right length
 */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  abytes(publicKey, 32, 'publicKey');
  abytes(message, undefined, 'message');
  abytes(signature, 64, 'signature');
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI, publicKey]), format: 'der', type: 'spki' });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

function ed25519PrivateObject(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: 'der', type: 'pkcs8' });
}

/**
 * The X25519 identity key pair of an Ed25519 seed, exactly as the AGT SDK (`ed25519ToX25519`) and libsodium
 * (`crypto_sign_ed25519_sk_to_curve25519`) derive it: SHA-512(seed)[0..32], clamped (RFC 7748 §5). Its public half
 * equals {@link ed25519PublicToX25519} of the seed's Ed25519 public key.
 * @throws {TypeError|RangeError} when `seed` is not 32 bytes
 */
export function ed25519SeedToX25519(seed: Uint8Array): X25519KeyPair {
  abytes(seed, 32, 'seed');
  const privateKey = new Uint8Array(createHash('sha512').update(seed).digest().subarray(0, 32));
  privateKey[0]! &= 248;
  privateKey[31]! &= 127;
  privateKey[31]! |= 64;
  return { privateKey, publicKey: x25519PublicKey(privateKey) };
}

const P = (1n << 255n) - 19n;

/**
 * Montgomery u of an Ed25519 public key: u = (1 + y) / (1 − y) mod p (RFC 7748 §4.1). Lets a receiver check that an
 * X25519 identity key in a bundle or KNOCK belongs to the Ed25519 key that signed it. Returns undefined for a
 * non-canonical y (≥ p) or y = 1 (the identity point).
 * @throws {TypeError|RangeError} when `publicKey` is not 32 bytes
 */
export function ed25519PublicToX25519(publicKey: Uint8Array): Uint8Array | undefined {
  abytes(publicKey, 32, 'publicKey');
  let y = 0n;
  for (let i = 31; i >= 0; i -= 1) y = (y << 8n) | BigInt(i === 31 ? publicKey[i]! & 0x7f : publicKey[i]!);
  if (y >= P || y === 1n) return undefined;
  let u = ((1n + y) * modPow((1n - y + P) % P, P - 2n)) % P;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i += 1) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return out;
}

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = base % P;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}
