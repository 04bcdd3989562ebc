// T4-E: the signature covers the domain prefix and every payload field; any change, another domain or another key
// fails, and the reason stays internal.
import { generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../core/audit/canonical-json';
import { checkTrustSignature, trustSigningBytes, TRUST_SIGNATURE_DOMAIN } from '../../../core/trust/trust-signature';
import { assertProperty } from '../../support/property';
import { newIssuer, payload, signed } from './trust-fixture';

const T = 1_760_000_000_000;
const update = { type: 'signal', observer: 'sandbox-1', subject: 'did:web:peer', kind: 'success' } as const;

describe('trust update signatures', () => {
  it('signs `kars.trust.v1\\n` + the canonical JSON of the payload (reusing the audit encoder)', () => {
    const p = payload(newIssuer(), T, update);
    expect(Buffer.from(trustSigningBytes(p)).toString('utf8')).toBe(TRUST_SIGNATURE_DOMAIN + canonicalJson(p));
    expect(TRUST_SIGNATURE_DOMAIN).toBe('kars.trust.v1\n');
  });

  it('verifies a good signature and refuses every single-field change', () => {
    const issuer = newIssuer();
    const u = signed(issuer, T, update);
    expect(checkTrustSignature(u)).toEqual({ ok: true });
    const changes = [
      { ...u.payload, tenantId: 'tenant-b' }, { ...u.payload, issuedAtSec: u.payload.issuedAtSec + 1 },
      { ...u.payload, nonce: `${u.payload.nonce}x` }, { ...u.payload, update: { ...update, kind: 'explicit' as const, delta: 200 } },
      { ...u.payload, update: { ...update, subject: 'did:web:other' } }, { ...u.payload, issuer: newIssuer().key },
    ];
    for (const p of changes) expect(checkTrustSignature({ payload: p, signature: u.signature })).toMatchObject({ ok: false });
  });

  it('refuses a signature over the same JSON without the domain prefix, or under another domain', () => {
    const issuer = newIssuer();
    const p = payload(issuer, T, update);
    for (const prefix of ['', 'kars.audit.v1\n', 'kars.trust.v2\n']) {
      const signature = sign(null, Buffer.from(prefix + canonicalJson(p)), issuer.privateKey).toString('base64url');
      expect(checkTrustSignature({ payload: p, signature })).toEqual({ ok: false, reason: 'mismatch' });
    }
  });

  it('names the reason for the audit: missing, malformed, bad-key, mismatch', () => {
    const issuer = newIssuer();
    const u = signed(issuer, T, update);
    expect(checkTrustSignature({ payload: u.payload })).toEqual({ ok: false, reason: 'missing' });
    expect(checkTrustSignature({ payload: u.payload, signature: 'abc' })).toEqual({ ok: false, reason: 'malformed' });
    const { publicKey } = generateKeyPairSync('x25519');
    const x = Buffer.from(publicKey.export({ format: 'der', type: 'spki' })).subarray(-32).toString('base64url');
    expect(checkTrustSignature({ payload: { ...u.payload, issuer: x }, signature: u.signature })).toMatchObject({ ok: false });
    const other = signed(newIssuer(), T, update);
    expect(checkTrustSignature({ payload: u.payload, signature: other.signature })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('never verifies a random signature', () => {
    const u = signed(newIssuer(), T, update);
    assertProperty(fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (bytes) => {
      expect(checkTrustSignature({ payload: u.payload, signature: Buffer.from(bytes).toString('base64url') }).ok).toBe(false);
    }), { numRuns: 50 });
  });
});
