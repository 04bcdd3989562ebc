// Shared setup for the audit tests: keys, a settable clock, a memory store and an appender wired like production.
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createMemoryReceiptStore } from '../../../adapters/memory/memory-receipt-store';
import type { MemoryReceiptStore } from '../../../adapters/memory/memory-receipt-store';
import { createMemorySecretSource } from '../../../adapters/memory/memory-secrets';
import { ReceiptAppender } from '../../../core/audit/append-receipt';
import type { ReceiptAppenderOptions } from '../../../core/audit/append-receipt';
import { createSecretCheckpointSigner } from '../../../core/audit/checkpoint-signer';
import { trustedKeyMap } from '../../../core/audit/checkpoint';
import type { Clock } from '../../../core/ports/clock.port';
import type { AuditReceiptInput } from '../../../core/ports/receipt-log.port';
import type { ReceiptStore } from '../../../core/ports/receipt-store.port';

export const SIGNING_SECRET_NAME = 'audit-checkpoint-key';

export interface TestClock extends Clock {
  advance(ms: number): void;
}

export function testClock(startMs = 1_700_000_000_000): TestClock {
  let now = startMs;
  return { nowMs: () => now, advance: (ms) => { now += ms; } };
}

export interface TestKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** base64 of the 32-byte seed, the form kept in the secret store. */
  secret: string;
  /** base64 of the 32 raw public key bytes, the form given to `kars audit verify`. */
  publicBase64: string;
}

export function newKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return {
    privateKey, publicKey,
    secret: pkcs8.subarray(pkcs8.length - 32).toString('base64'),
    publicBase64: spki.subarray(spki.length - 32).toString('base64'),
  };
}

export function keysOf(...keys: TestKey[]): Map<string, KeyObject> {
  return trustedKeyMap(keys.map((k) => k.publicKey));
}

export function input(n: number, subject = 'tenant-a'): AuditReceiptInput {
  return { subject, kind: 'edge.webhook', outcome: n % 3 === 0 ? 'rejected' : 'accepted', data: { n, status: 200 } };
}

export interface AuditRig {
  clock: TestClock;
  key: TestKey;
  mem: MemoryReceiptStore;
  store: ReceiptStore;
  appender(options?: Partial<ReceiptAppenderOptions>, store?: ReceiptStore): ReceiptAppender;
}

export function auditRig(): AuditRig {
  const clock = testClock();
  const key = newKey();
  const mem = createMemoryReceiptStore({ clock });
  const secrets = createMemorySecretSource({ [SIGNING_SECRET_NAME]: key.secret });
  const signer = createSecretCheckpointSigner(secrets, { secretName: SIGNING_SECRET_NAME, clock });
  return {
    clock, key, mem, store: mem.receipts,
    appender: (options, store) => new ReceiptAppender(store ?? mem.receipts, { clock, signer, ...options }),
  };
}
