// Contract every SecretSource adapter must pass (memory, local file/env, Key Vault): same values, same codes,
// same name rules, values only ever as Redacted.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { SecretSource } from '../../core/ports/secret-source.port';
import { Redacted, redact } from '../../core/secrets/redacted';
import { settledCode } from '../support/settled-code';

export interface SecretSourceUnderTest {
  source: SecretSource;
  cleanup?: () => Promise<void>;
}

/** `make` builds a fresh source holding exactly `seed` (name → value). */
export type MakeSecretSource = (seed: Record<string, string>) => Promise<SecretSourceUnderTest>;

const canary = (label: string) => `canary-${label}-${randomBytes(12).toString('hex')}`;

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

export function describeSecretSourceContract(label: string, make: MakeSecretSource): void {
  describe(`SecretSource contract: ${label}`, () => {
    async function withSource(seed: Record<string, string>, body: (s: SecretSource) => Promise<void>): Promise<void> {
      const { source, cleanup } = await make(seed);
      try {
        await body(source);
      } finally {
        await cleanup?.();
      }
    }

    it('returns a seeded value wrapped in Redacted that never prints', async () => {
      const value = canary('seeded');
      await withSource({ 'webhook-github': value }, async (s) => {
        const got = await s.getSecret('webhook-github');
        expect(got).toBeInstanceOf(Redacted);
        expect(got.reveal()).toBe(value);
        expect(JSON.stringify({ got })).not.toContain(value);
        expect(inspect(got, { depth: 5 })).not.toContain(value);
        expect(`${got}`).not.toContain(value);
      });
    });

    it('reports a missing secret as SECRET_NOT_FOUND', async () => {
      await withSource({ present: canary('p') }, async (s) => {
        expect(await settledCode(s.getSecret('absent-secret'))).toBe('SECRET_NOT_FOUND');
      });
    });

    it('setSecret creates a secret and later sets rotate it (latest wins)', async () => {
      const v1 = canary('v1');
      const v2 = canary('v2');
      await withSource({}, async (s) => {
        await s.setSecret('rotating', redact(v1));
        expect((await s.getSecret('rotating')).reveal()).toBe(v1);
        await s.setSecret('rotating', redact(v2));
        expect((await s.getSecret('rotating')).reveal()).toBe(v2);
      });
    });

    it('setSecret on a seeded name replaces what getSecret returns', async () => {
      const seeded = canary('old');
      const rotated = canary('new');
      await withSource({ 'signing-key': seeded }, async (s) => {
        await s.setSecret('signing-key', redact(rotated));
        expect((await s.getSecret('signing-key')).reveal()).toBe(rotated);
      });
    });

    it('treats names case-insensitively, like Key Vault', async () => {
      const value = canary('case');
      await withSource({ 'Mixed-Case-Name': value }, async (s) => {
        expect((await s.getSecret('mixed-case-name')).reveal()).toBe(value);
        expect((await s.getSecret('MIXED-CASE-NAME')).reveal()).toBe(value);
      });
    });

    it('refuses names outside Key Vault rules with SECRET_NAME_INVALID, without echoing the name', async () => {
      const leaked = canary('name');
      await withSource({ ok: canary('ok') }, async (s) => {
        for (const bad of ['', 'a/b', '../etc/passwd', 'a_b', 'x'.repeat(128), 'sp ace', `${leaked}?x=1`]) {
          expect(await settledCode(s.getSecret(bad)), `get ${JSON.stringify(bad)}`).toBe('SECRET_NAME_INVALID');
          expect(await settledCode(s.setSecret(bad, redact('v'))), `set ${JSON.stringify(bad)}`).toBe('SECRET_NAME_INVALID');
        }
        expect((await errorOf(s.getSecret(`${leaked}?x=1`))).message).not.toContain(leaked);
        expect(await settledCode(s.getSecret('x'.repeat(127)))).toBe('SECRET_NOT_FOUND');
      });
    });

    it('rejects with SECRET_UNAVAILABLE when the signal is already aborted', async () => {
      await withSource({ present: canary('a') }, async (s) => {
        const signal = AbortSignal.abort();
        expect(await settledCode(s.getSecret('present', { abortSignal: signal }))).toBe('SECRET_UNAVAILABLE');
        expect(await settledCode(s.setSecret('present', redact('x'), { abortSignal: signal }))).toBe('SECRET_UNAVAILABLE');
      });
    });

    it('never puts a secret value in an error message', async () => {
      const value = canary('err');
      await withSource({ present: value }, async (s) => {
        const errors = [
          await errorOf(s.setSecret('bad/name', redact(value))),
          await errorOf(s.getSecret('absent')),
          await errorOf(s.getSecret('present', { abortSignal: AbortSignal.abort() })),
        ];
        for (const e of errors) {
          expect(e.message).not.toContain(value);
          expect(inspect(e, { depth: 8 })).not.toContain(value);
        }
      });
    });
  });
}
