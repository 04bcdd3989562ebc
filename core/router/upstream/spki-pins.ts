// SPKI pinning for model endpoints (T3-T): pins are base64 SHA-256 over a certificate's DER SubjectPublicKeyInfo,
// the HPKP `pin-sha256` format (RFC 7469 §2.4), so `openssl x509 -pubkey | openssl pkey -pubin -outform der |
// openssl dgst -sha256 -binary | base64` prints one. A chain matches when any of its certificates carries a pin:
// pinning the issuing CA survives leaf rotation.
import { createHash } from 'node:crypto';
import { KarsError } from '../../errors';

/**
 * Parses configured pins once, at startup.
 * @throws KarsError CONFIG_INVALID naming the pin's index when it is not base64 of 32 bytes
 */
export function parseSpkiPins(pins: readonly string[]): ReadonlySet<string> {
  const out = new Set<string>();
  pins.forEach((pin, i) => {
    const p = pin.trim();
    if (!/^[A-Za-z0-9+/]{43}=$/.test(p) || Buffer.from(p, 'base64').length !== 32) {
      throw new KarsError('CONFIG_INVALID', `SPKI pin ${i} must be base64 SHA-256 (44 characters)`);
    }
    out.add(p);
  });
  return out;
}

/** The pin of one DER SubjectPublicKeyInfo. */
export function spkiPin(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest('base64');
}

/** True when any certificate's SPKI in the chain carries one of `pins`. */
export function chainMatchesPins(chainSpkis: readonly Uint8Array[], pins: ReadonlySet<string>): boolean {
  return chainSpkis.some((spki) => pins.has(spkiPin(spki)));
}
