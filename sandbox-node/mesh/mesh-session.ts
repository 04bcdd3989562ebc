// T4-T: one end-to-end session with a peer: X3DH to start, then the Double Ratchet. AD = "<initiator DID>|<responder
// DID>" ‖ IK_initiator ‖ IK_responder, as the AGT MeshClient builds it, so on the chacha20poly1305 suite our session
// and an AGT SecureChannel read each other's messages.
import { concatBytes } from '../../core/crypto/concat-bytes';
import { bytesToHex, decodeHexStrict } from '../../core/crypto/strict-encoding';
import { fail, ok, type Result } from '../../core/errors';
import type { MeshMitigation } from '../../core/mesh/mesh-mitigations';
import { DEFAULT_MESH_SUITE, isMeshSuiteName, type MeshSuiteName } from '../../core/mesh/mesh-suites';
import {
  initRatchetReceiver, initRatchetSender, ratchetDecrypt, ratchetEncrypt, type RatchetMessage, type RatchetState,
} from '../../core/mesh/ratchet';
import { ratchetStateFromJson, ratchetStateToJson, type RatchetStateJson } from '../../core/mesh/ratchet-state-json';
import { x3dhInitiate, x3dhRespond, type PrekeyBundle, type X3dhEstablishment } from '../../core/mesh/x3dh';
import type { MeshKeyManager } from './mesh-key-manager';

export interface MeshSessionOptions {
  /** Default `xsalsa20poly1305`; `chacha20poly1305` to talk to an AGT agent. */
  readonly suite?: MeshSuiteName;
  /** TEST ONLY: switch mitigations off to show the attack then succeeds. Never set from configuration. */
  readonly _disable?: readonly MeshMitigation[];
}

export interface MeshSessionJson {
  v: 1;
  ad: string;
  ratchet: RatchetStateJson;
}

const didPrefix = (initiatorDid: string, responderDid: string): Uint8Array => new TextEncoder().encode(`${initiatorDid}|${responderDid}`);

export class MeshSession {
  readonly #state: RatchetState;
  readonly #ad: Uint8Array;
  readonly #disable: readonly MeshMitigation[];

  private constructor(state: RatchetState, ad: Uint8Array, disable: readonly MeshMitigation[] = []) {
    this.#state = state;
    this.#ad = ad;
    this.#disable = disable;
  }

  /**
   * Initiator: verifies the peer's bundle (signed prekey against its Ed25519 identity key) and runs X3DH. The
   * establishment goes to the peer in the KNOCK (`establishment`) or the first message (`x3dh`).
   * @returns MESH_FRAME_INVALID or MESH_PREKEY_SIGNATURE_INVALID for a bad bundle
   */
  static initiate(keys: MeshKeyManager, peerBundle: PrekeyBundle, localDid: string, peerDid: string, options?: MeshSessionOptions): Result<{ session: MeshSession; establishment: X3dhEstablishment }> {
    const suite = options?.suite ?? DEFAULT_MESH_SUITE;
    const x = x3dhInitiate(suite, keys.identityKey, peerBundle);
    if (!x.ok) return x;
    const state = initRatchetSender(suite, x.value.sharedSecret, x.value.bundle.signedPreKey);
    x.value.sharedSecret.fill(0);
    const ad = concatBytes(didPrefix(localDid, peerDid), x.value.associatedData);
    return ok({ session: new MeshSession(state, ad, options?._disable), establishment: x.value.establishment });
  }

  /**
   * Responder: runs X3DH with the current signed prekey and the one-time prekey the establishment names, which is
   * consumed here, so a replayed establishment is refused (X3DH §4.2).
   * @returns MESH_SESSION_NOT_READY (no signed prekey), MESH_PREKEY_UNKNOWN (one-time prekey unknown or used),
   * MESH_FRAME_INVALID (malformed keys)
   */
  static accept(keys: MeshKeyManager, establishment: X3dhEstablishment, peerDid: string, localDid: string, options?: MeshSessionOptions): Result<MeshSession> {
    const suite = options?.suite ?? DEFAULT_MESH_SUITE;
    const spk = keys.signedPrekey;
    if (spk === undefined) return fail('MESH_SESSION_NOT_READY', 'no signed prekey');
    const otkId = establishment?.usedOneTimeKeyId;
    let otk;
    if (otkId !== undefined) {
      otk = keys.takeOneTimePrekey(otkId);
      if (otk === undefined) return fail('MESH_PREKEY_UNKNOWN', 'one-time prekey unknown or already used');
    }
    const x = x3dhRespond(suite, keys.identityKey, spk.keyPair, otk, establishment);
    otk?.privateKey.fill(0);
    if (!x.ok) return x;
    const state = initRatchetReceiver(suite, x.value.sharedSecret, spk.keyPair);
    x.value.sharedSecret.fill(0);
    return ok(new MeshSession(state, concatBytes(didPrefix(peerDid, localDid), x.value.associatedData), options?._disable));
  }

  get suite(): MeshSuiteName {
    return this.#state.suite;
  }

  /** Skipped message keys held (at most MAX_SKIPPED_TOTAL). */
  get skippedKeyCount(): number {
    return this.#state.skipped.size;
  }

  /** @returns MESH_SESSION_NOT_READY when the responder has not received yet */
  send(plaintext: Uint8Array): Result<RatchetMessage> {
    return ratchetEncrypt(this.#state, plaintext, this.#ad);
  }

  /** @returns the codes of ratchetDecrypt; on any failure the session is unchanged */
  receive(message: RatchetMessage): Result<Uint8Array> {
    return ratchetDecrypt(this.#state, message, this.#ad, { _disable: this.#disable });
  }

  /** The session as JSON (secret material: store it like a key). */
  toJSON(): MeshSessionJson {
    return { v: 1, ad: bytesToHex(this.#ad), ratchet: ratchetStateToJson(this.#state) };
  }

  /** @returns MESH_STATE_INVALID for anything {@link toJSON} would not have written */
  static fromJSON(json: unknown): Result<MeshSession> {
    if (typeof json !== 'object' || json === null) return fail('MESH_STATE_INVALID', 'session state is invalid');
    const j = json as Record<string, unknown>;
    const ad = typeof j.ad === 'string' && j.ad.length <= 8192 ? decodeHexStrict(j.ad) : undefined;
    if (j.v !== 1 || ad === undefined) return fail('MESH_STATE_INVALID', 'session state field v or ad is invalid');
    const state = ratchetStateFromJson(j.ratchet);
    if (!state.ok) return state;
    if (!isMeshSuiteName(state.value.suite)) return fail('MESH_STATE_INVALID', 'session suite is invalid');
    return ok(new MeshSession(state.value, ad));
  }
}
