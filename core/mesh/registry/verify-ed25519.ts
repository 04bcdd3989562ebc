// Ed25519 verification over a raw 32-byte public key (node:crypto; AGENTMESH-WIRE-1.0 §4.3 identity keys).
import { verify } from 'node:crypto';
import { parseEd25519PublicKey } from '../../audit/ed25519-keys';

/** False for a bad signature, a 64-byte length mismatch or a key that is not a valid Ed25519 point; never throws. */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return verify(null, message, parseEd25519PublicKey(publicKey), signature);
  } catch {
    return false;
  }
}
