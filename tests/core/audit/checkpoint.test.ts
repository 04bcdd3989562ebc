// Checkpoints: what is signed, who can verify it (cross-checked with tweetnacl), key formats, the Key-Vault-backed signer.
import { createHash, generateKeyPairSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { createMemorySecretSource } from '../../../adapters/memory/memory-secrets';
import { checkCheckpointSignature, checkpointMessage, signCheckpoint } from '../../../core/audit/checkpoint';
import { createSecretCheckpointSigner } from '../../../core/audit/checkpoint-signer';
import { ed25519KeyId, parseEd25519PrivateKey, parseEd25519PublicKey, rawEd25519PublicKey } from '../../../core/audit/ed25519-keys';
import { isKarsError } from '../../../core/errors';
import { redact } from '../../../core/secrets/redacted';
import { SIGNING_SECRET_NAME, keysOf, newKey, testClock } from './audit-fixture';

const statement = { chain: 'audit-02', seq: 128, hash: 'ab'.repeat(32), timeMs: 1700000000123 };

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'accepted';
  } catch (e) {
    return isKarsError(e) ? e.code : 'other';
  }
}

describe('checkpoint signatures', () => {
  it('signs exactly the domain tag and the canonical statement', () => {
    expect(Buffer.from(checkpointMessage(statement)).toString('utf8')).toBe(
      `kars.audit.checkpoint.v1\n{"chain":"audit-02","hash":"${'ab'.repeat(32)}","seq":128,"timeMs":1700000000123}`,
    );
  });

  it('verifies with node:crypto and with an independent Ed25519 implementation (tweetnacl)', () => {
    const key = newKey();
    const cp = signCheckpoint(key.privateKey, statement);
    expect(cp).toMatchObject({ ...statement, v: 1, id: 'audit-02:ckpt:000000000128', keyId: ed25519KeyId(key.publicKey) });
    expect(checkCheckpointSignature(statement, cp.keyId, cp.signature, keysOf(key))).toBe('ok');
    const pub = rawEd25519PublicKey(key.publicKey);
    expect(nacl.sign.detached.verify(checkpointMessage(statement), Buffer.from(cp.signature, 'base64'), pub)).toBe(true);
  });

  it('fails for any change to the statement', () => {
    const key = newKey();
    const cp = signCheckpoint(key.privateKey, statement);
    const trusted = keysOf(key);
    for (const change of [{ chain: 'audit-03' }, { seq: 129 }, { hash: 'cd'.repeat(32) }, { timeMs: 1700000000124 }]) {
      expect(checkCheckpointSignature({ ...statement, ...change }, cp.keyId, cp.signature, trusted)).toBe('signature-invalid');
    }
  });

  it('names an untrusted key, and refuses a forged signature that borrows a trusted key id', () => {
    const good = newKey();
    const attacker = newKey();
    const forged = signCheckpoint(attacker.privateKey, statement);
    expect(checkCheckpointSignature(statement, forged.keyId, forged.signature, keysOf(good))).toBe('unknown-key');
    expect(checkCheckpointSignature(statement, ed25519KeyId(good.publicKey), forged.signature, keysOf(good))).toBe('signature-invalid');
    expect(checkCheckpointSignature(statement, forged.keyId, forged.signature, keysOf(good, attacker))).toBe('ok');
  });

  it('treats malformed signature fields as invalid, not as a crash', () => {
    const key = newKey();
    const trusted = keysOf(key);
    const keyId = ed25519KeyId(key.publicKey);
    for (const sig of [undefined, 42, '', 'x'.repeat(88), Buffer.alloc(64).toString('base64').slice(0, -3)]) {
      expect(checkCheckpointSignature(statement, keyId, sig, trusted)).toBe('signature-invalid');
    }
    expect(checkCheckpointSignature(statement, { id: keyId }, 'x', trusted)).toBe('unknown-key');
  });
});

describe('Ed25519 key parsing', () => {
  it('accepts PEM, base64 raw, raw bytes and base64 SPKI DER for the same public key', () => {
    const key = newKey();
    const id = ed25519KeyId(key.publicKey);
    const pem = key.publicKey.export({ format: 'pem', type: 'spki' }) as string;
    const der = key.publicKey.export({ format: 'der', type: 'spki' });
    for (const form of [pem, key.publicBase64, Buffer.from(key.publicBase64, 'base64'), der.toString('base64')]) {
      expect(ed25519KeyId(parseEd25519PublicKey(form))).toBe(id);
    }
    // key id = first 8 bytes of SHA-256(raw key), computed independently here
    expect(id).toBe(createHash('sha256').update(Buffer.from(key.publicBase64, 'base64')).digest('hex').slice(0, 16));
  });

  it('refuses non-Ed25519 and garbage public keys', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }) as string;
    for (const bad of [rsa, 'not base64!', Buffer.alloc(31).toString('base64'), '']) {
      expect(await codeOf(() => parseEd25519PublicKey(bad))).toBe('INPUT_INVALID');
    }
  });

  it('accepts the private key as PEM, base64 seed or base64 PKCS#8, all yielding the same public key', () => {
    const key = newKey();
    const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const pkcs8 = key.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    for (const form of [pem, key.secret, pkcs8]) expect(ed25519KeyId(parseEd25519PrivateKey(form))).toBe(ed25519KeyId(key.publicKey));
  });

  it('refuses a bad private key without echoing it', () => {
    const secret = `sk-canary-${'Z'.repeat(20)}`;
    try {
      parseEd25519PrivateKey(secret);
      expect.unreachable();
    } catch (e) {
      expect(isKarsError(e) && e.code).toBe('CONFIG_INVALID');
      expect((e as Error).message).not.toContain('canary');
    }
  });
});

describe('createSecretCheckpointSigner', () => {
  it('reads the key by name once, caches it, and re-reads after the cache TTL (rotation)', async () => {
    const clock = testClock();
    const k1 = newKey();
    const k2 = newKey();
    const secrets = createMemorySecretSource({ [SIGNING_SECRET_NAME]: k1.secret });
    let reads = 0;
    const counting = { ...secrets, getSecret: (...a: Parameters<typeof secrets.getSecret>) => { reads += 1; return secrets.getSecret(...a); } };
    const signer = createSecretCheckpointSigner(counting, { secretName: SIGNING_SECRET_NAME, clock, keyCacheTtlMs: 60_000 });
    const burst = await Promise.all([1, 2, 3, 4].map((seq) => signer.sign({ ...statement, seq })));
    expect(reads).toBe(1);
    expect(new Set(burst.map((c) => c.keyId))).toEqual(new Set([ed25519KeyId(k1.publicKey)]));
    await secrets.setSecret(SIGNING_SECRET_NAME, redact(k2.secret));
    clock.advance(59_999);
    expect((await signer.sign(statement)).keyId).toBe(ed25519KeyId(k1.publicKey));
    clock.advance(2);
    const rotated = await signer.sign(statement);
    expect(reads).toBe(2);
    expect(rotated.keyId).toBe(ed25519KeyId(k2.publicKey));
    expect(checkCheckpointSignature(statement, rotated.keyId, rotated.signature, keysOf(k2))).toBe('ok');
  });

  it('passes the secret store code through when the key is missing, and refuses a malformed key', async () => {
    const clock = testClock();
    const missing = createSecretCheckpointSigner(createMemorySecretSource({}), { secretName: SIGNING_SECRET_NAME, clock });
    expect(await codeOf(missing.sign(statement))).toBe('SECRET_NOT_FOUND');
    const garbage = createSecretCheckpointSigner(createMemorySecretSource({ [SIGNING_SECRET_NAME]: 'bm90IGEga2V5' }), { secretName: SIGNING_SECRET_NAME, clock });
    expect(await codeOf(garbage.sign(statement))).toBe('CONFIG_INVALID');
  });
});
