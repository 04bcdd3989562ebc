// T4-S: an agent's mesh keys: the Ed25519 identity (its X25519 form for X3DH, converted as the AGT SDK does), the
// signed prekey and the one-time prekeys (wire spec §4.3, §6). A one-time prekey is handed out for one session only:
// taking it deletes it (X3DH §3.4).
import { ed25519PublicKey, ed25519SeedToX25519, ed25519Sign, generateX25519KeyPair, type X25519KeyPair } from '../../core/mesh/curve-keys';
import type { PrekeyBundle } from '../../core/mesh/x3dh';
import { abytes } from '../../core/crypto/assert';

export interface SignedPrekey {
  readonly keyId: number;
  readonly keyPair: X25519KeyPair;
  /** Ed25519 over the 32 raw public key bytes (the AGT bundle format). */
  readonly signature: Uint8Array;
}

export class MeshKeyManager {
  readonly identityKeyEd: Uint8Array;
  readonly identityKey: X25519KeyPair;
  readonly #seed: Uint8Array;
  #signedPrekey: SignedPrekey | undefined;
  readonly #oneTime = new Map<number, X25519KeyPair>();
  #nextSpkId = 0;
  #nextOtkId = 0;

  /** @param identitySeed the 32-byte Ed25519 seed (copied) @throws {TypeError|RangeError} when it is not 32 bytes */
  constructor(identitySeed: Uint8Array) {
    abytes(identitySeed, 32, 'identitySeed');
    this.#seed = Uint8Array.from(identitySeed);
    this.identityKeyEd = ed25519PublicKey(this.#seed);
    this.identityKey = ed25519SeedToX25519(this.#seed);
  }

  /** The identity seed, for signKnockFrame (core/mesh/knock-signature.ts). Secret: never log or serialise it. */
  get identitySeed(): Uint8Array {
    return this.#seed;
  }

  /** Makes a new signed prekey and makes it the current one (wire spec §6.2: rotate weekly). */
  generateSignedPrekey(): SignedPrekey {
    const keyPair = generateX25519KeyPair();
    this.#signedPrekey = { keyId: this.#nextSpkId++, keyPair, signature: ed25519Sign(this.#seed, keyPair.publicKey) };
    return this.#signedPrekey;
  }

  get signedPrekey(): SignedPrekey | undefined {
    return this.#signedPrekey;
  }

  /** Makes `count` one-time prekeys; returns their public halves for upload. */
  generateOneTimePrekeys(count: number): Array<{ keyId: number; publicKey: Uint8Array }> {
    const out: Array<{ keyId: number; publicKey: Uint8Array }> = [];
    for (let i = 0; i < count; i += 1) {
      const keyPair = generateX25519KeyPair();
      const keyId = this.#nextOtkId++;
      this.#oneTime.set(keyId, keyPair);
      out.push({ keyId, publicKey: keyPair.publicKey });
    }
    return out;
  }

  /** Removes and returns a one-time prekey; undefined when it was never issued or is already used. */
  takeOneTimePrekey(keyId: number): X25519KeyPair | undefined {
    const pair = this.#oneTime.get(keyId);
    this.#oneTime.delete(keyId);
    return pair;
  }

  get oneTimePrekeyCount(): number {
    return this.#oneTime.size;
  }

  /**
   * The public bundle (what the registry hands out), with one-time prekey `otkId` when given and still held.
   * @throws {Error} before the first {@link generateSignedPrekey}: a bug in the caller
   */
  publicBundle(otkId?: number): PrekeyBundle {
    const spk = this.#signedPrekey;
    if (spk === undefined) throw new Error('no signed prekey yet: call generateSignedPrekey() first');
    const otk = otkId === undefined ? undefined : this.#oneTime.get(otkId);
    return {
      identityKey: this.identityKey.publicKey,
      identityKeyEd: this.identityKeyEd,
      signedPreKey: spk.keyPair.publicKey,
      signedPreKeySignature: spk.signature,
      signedPreKeyId: spk.keyId,
      ...(otk ? { oneTimePreKey: otk.publicKey, oneTimePreKeyId: otkId! } : {}),
    };
  }
}
