// Test fixture: two ratchet states that share an X3DH secret, and a snapshot of a state for "unchanged" checks.
import { randomBytes } from 'node:crypto';
import { generateX25519KeyPair } from '../../../core/mesh/curve-keys';
import type { MeshSuiteName } from '../../../core/mesh/mesh-suites';
import { initRatchetReceiver, initRatchetSender, type RatchetState } from '../../../core/mesh/ratchet';
import { ratchetStateToJson } from '../../../core/mesh/ratchet-state-json';

export const AD = new TextEncoder().encode('did:a|did:b');

export function ratchetPair(suite: MeshSuiteName): { a: RatchetState; b: RatchetState } {
  const sk = new Uint8Array(randomBytes(32));
  const spk = generateX25519KeyPair();
  return { a: initRatchetSender(suite, sk, spk.publicKey), b: initRatchetReceiver(suite, sk, spk) };
}

export const snapshot = (s: RatchetState): string => JSON.stringify(ratchetStateToJson(s));
