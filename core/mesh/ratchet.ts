// T4-T: the Double Ratchet (Signal Double Ratchet rev 1, §3; AgentMesh wire spec §8). Decryption is transactional
// (§3.5): every new key is computed into locals and committed only after the AEAD check passes, so a forged, replayed
// or corrupted message leaves the state exactly as it was. Skipped keys are capped per chain and in total (T4-D).
import { abytes } from '../crypto/assert';
import { concatBytes } from '../crypto/concat-bytes';
import { constantTimeEqual } from '../crypto/constant-time-equal';
import { bytesToHex } from '../crypto/strict-encoding';
import { fail, ok, type Result } from '../errors';
import { generateX25519KeyPair, x25519, type X25519KeyPair } from './curve-keys';
import type { MeshMitigation } from './mesh-mitigations';
import { MESH_SUITES, type MeshSuiteName } from './mesh-suites';
import { checkRatchetHeader, encodeRatchetHeader, MAX_U32, type RatchetHeader } from './ratchet-header';
import { kdfChain, kdfRoot } from './ratchet-kdf';

/** Most message keys one message may make us derive and keep per chain (wire spec §8.4; the AGT SDK's MAX_SKIP). */
export const MAX_SKIP_PER_CHAIN = 100;
/** Most skipped keys kept across all chains; the oldest is evicted first (the AGT SDK's MAX_SKIPPED_KEYS_TOTAL). */
export const MAX_SKIPPED_TOTAL = 2000;

export interface RatchetState {
  readonly suite: MeshSuiteName;
  dhSelf: X25519KeyPair;
  dhRemote: Uint8Array | null;
  rootKey: Uint8Array;
  chainSend: Uint8Array | null;
  chainRecv: Uint8Array | null;
  /** Next message number on the sending chain. */
  ns: number;
  /** Next expected message number on the receiving chain. */
  nr: number;
  /** Length of the previous sending chain. */
  pn: number;
  /** `<dh hex>:<n>` → message key, in insertion order (eviction drops the first). */
  readonly skipped: Map<string, Uint8Array>;
}

export interface RatchetMessage {
  readonly header: RatchetHeader;
  /** The suite's sealed bytes (nonce ‖ …). */
  readonly ciphertext: Uint8Array;
}

export interface RatchetDecryptOptions {
  /** TEST ONLY: switch mitigations off to show the attack then succeeds. Never set from configuration. */
  readonly _disable?: readonly MeshMitigation[];
}

const skipId = (dh: Uint8Array, n: number): string => `${bytesToHex(dh)}:${n}`;

/**
 * Initiator state after X3DH (Signal §3.3 RatchetInitAlice): a fresh ratchet key and a sending chain toward the
 * responder's signed prekey.
 * @throws {TypeError|RangeError} on wrong key lengths
 */
export function initRatchetSender(suite: MeshSuiteName, sharedSecret: Uint8Array, remotePublicKey: Uint8Array): RatchetState {
  abytes(sharedSecret, 32, 'sharedSecret');
  abytes(remotePublicKey, 32, 'remotePublicKey');
  const dhSelf = generateX25519KeyPair();
  const [rootKey, chainSend] = kdfRoot(sharedSecret, x25519(dhSelf.privateKey, remotePublicKey), MESH_SUITES[suite].ratchetInfo);
  return { suite, dhSelf, dhRemote: Uint8Array.from(remotePublicKey), rootKey, chainSend, chainRecv: null, ns: 0, nr: 0, pn: 0, skipped: new Map() };
}

/**
 * Responder state after X3DH (Signal §3.3 RatchetInitBob): the signed prekey pair is the first ratchet key.
 * @throws {TypeError|RangeError} on wrong key lengths
 */
export function initRatchetReceiver(suite: MeshSuiteName, sharedSecret: Uint8Array, signedPrekey: X25519KeyPair): RatchetState {
  abytes(sharedSecret, 32, 'sharedSecret');
  abytes(signedPrekey.privateKey, 32, 'signedPrekey.privateKey');
  abytes(signedPrekey.publicKey, 32, 'signedPrekey.publicKey');
  const dhSelf = { privateKey: Uint8Array.from(signedPrekey.privateKey), publicKey: Uint8Array.from(signedPrekey.publicKey) };
  return { suite, dhSelf, dhRemote: null, rootKey: Uint8Array.from(sharedSecret), chainSend: null, chainRecv: null, ns: 0, nr: 0, pn: 0, skipped: new Map() };
}

const withHeader = (ad: Uint8Array, header: RatchetHeader): Uint8Array => concatBytes(ad, encodeRatchetHeader(header));

/**
 * Encrypts one message and advances the sending chain (Signal §3.4 RatchetEncrypt). AAD = ad ‖ header, the AGT order.
 * @returns MESH_SESSION_NOT_READY when there is no sending chain yet (a responder must receive first) or it is spent
 */
export function ratchetEncrypt(state: RatchetState, plaintext: Uint8Array, ad: Uint8Array): Result<RatchetMessage> {
  abytes(plaintext, undefined, 'plaintext');
  abytes(ad, undefined, 'ad');
  if (state.chainSend === null) return fail('MESH_SESSION_NOT_READY', 'no sending chain yet: receive the first message');
  if (state.ns >= MAX_U32) return fail('MESH_SESSION_NOT_READY', 'sending chain exhausted: start a new session');
  const [messageKey, next] = kdfChain(state.chainSend);
  const header: RatchetHeader = { dhPublicKey: state.dhSelf.publicKey, previousChainLength: state.pn, messageNumber: state.ns };
  const ciphertext = MESH_SUITES[state.suite].seal(messageKey, plaintext, withHeader(ad, header));
  messageKey.fill(0);
  state.chainSend = next;
  state.ns += 1;
  return ok({ header, ciphertext });
}

/**
 * Decrypts one message (Signal §3.5 RatchetDecrypt). The state changes only when the AEAD accepts.
 * @returns MESH_FRAME_INVALID (malformed header), MESH_MESSAGE_DUPLICATE (already received or its key evicted),
 * MESH_SKIP_LIMIT (more than {@link MAX_SKIP_PER_CHAIN} keys to skip in one chain), MESH_DECRYPT_FAILED (AEAD refused)
 */
export function ratchetDecrypt(state: RatchetState, message: RatchetMessage, ad: Uint8Array, options?: RatchetDecryptOptions): Result<Uint8Array> {
  abytes(ad, undefined, 'ad');
  const checked = checkRatchetHeader(message?.header);
  if (!checked.ok) return checked;
  const header = checked.value;
  abytes(message.ciphertext, undefined, 'ciphertext');
  const suite = MESH_SUITES[state.suite];
  const verifyTag = !(options?._disable ?? []).includes('aead-tag');
  const aad = withHeader(ad, header);

  const id = skipId(header.dhPublicKey, header.messageNumber);
  const skippedKey = state.skipped.get(id);
  if (skippedKey !== undefined) {
    const plaintext = suite.open(skippedKey, message.ciphertext, aad, verifyTag);
    if (plaintext === undefined) return fail('MESH_DECRYPT_FAILED', 'message refused');
    state.skipped.delete(id);
    skippedKey.fill(0);
    return ok(plaintext);
  }

  // Everything below is scratch until the AEAD accepts.
  let { rootKey, chainRecv, chainSend, nr, ns, pn, dhSelf, dhRemote } = state;
  const added: Array<[string, Uint8Array]> = [];
  const sameChain = dhRemote !== null && constantTimeEqual(dhRemote, header.dhPublicKey);
  if (sameChain) {
    if (chainRecv === null) return fail('MESH_DECRYPT_FAILED', 'message refused');
    if (header.messageNumber < nr) return fail('MESH_MESSAGE_DUPLICATE', 'message already received or its key expired');
  } else {
    if (chainRecv !== null) {
      if (header.previousChainLength - nr > MAX_SKIP_PER_CHAIN) return fail('MESH_SKIP_LIMIT', 'too many skipped messages');
      for (; nr < header.previousChainLength; nr += 1) {
        const [mk, next] = kdfChain(chainRecv);
        added.push([skipId(dhRemote!, nr), mk]);
        chainRecv = next;
      }
    }
    dhRemote = Uint8Array.from(header.dhPublicKey);
    try {
      [rootKey, chainRecv] = kdfRoot(rootKey, x25519(dhSelf.privateKey, dhRemote), suite.ratchetInfo);
      dhSelf = generateX25519KeyPair();
      [rootKey, chainSend] = kdfRoot(rootKey, x25519(dhSelf.privateKey, dhRemote), suite.ratchetInfo);
    } catch {
      // A small-order ratchet key makes X25519 output zero, which OpenSSL refuses.
      return fail('MESH_DECRYPT_FAILED', 'message refused');
    }
    pn = ns;
    ns = 0;
    nr = 0;
  }
  if (header.messageNumber - nr > MAX_SKIP_PER_CHAIN) return fail('MESH_SKIP_LIMIT', 'too many skipped messages');
  for (; nr < header.messageNumber; nr += 1) {
    const [mk, next] = kdfChain(chainRecv!);
    added.push([skipId(dhRemote!, nr), mk]);
    chainRecv = next;
  }
  const [messageKey, nextChain] = kdfChain(chainRecv!);
  const plaintext = suite.open(messageKey, message.ciphertext, aad, verifyTag);
  messageKey.fill(0);
  if (plaintext === undefined) return fail('MESH_DECRYPT_FAILED', 'message refused');

  Object.assign(state, { rootKey, chainRecv: nextChain, chainSend, nr: nr + 1, ns, pn, dhSelf, dhRemote });
  for (const [key, mk] of added) state.skipped.set(key, mk);
  for (const oldest of state.skipped.keys()) {
    if (state.skipped.size <= MAX_SKIPPED_TOTAL) break;
    state.skipped.get(oldest)!.fill(0);
    state.skipped.delete(oldest);
  }
  return ok(plaintext);
}
