// The Ed25519-Timestamp header (AGENTMESH-WIRE-1.0 §13.1) parser and checker, and the strict base64url codec.
import { describe, expect, it } from 'vitest';
import { decodeBase64UrlStrict } from '../../../core/mesh/registry/base64url';
import { checkEd25519Timestamp, parseEd25519TimestampHeader } from '../../../core/mesh/registry/ed25519-timestamp-auth';
import { ed25519TimestampHeader, newAgent } from '../../mesh/agt-sdk';

const NOW = Date.parse('2026-12-08T01:00:00.000Z');

describe('parseEd25519TimestampHeader', () => {
  const alice = newAgent('alice');
  it('accepts the AGT client header and checks it under the identity key', () => {
    const parsed = parseEd25519TimestampHeader(ed25519TimestampHeader(alice, NOW));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value).toMatchObject({ did: alice.did, atMs: NOW });
    expect(checkEd25519Timestamp(parsed.value, alice.keys.identityKeyEd, NOW + 300_000).ok).toBe(true);
    expect(checkEd25519Timestamp(parsed.value, alice.keys.identityKeyEd, NOW + 300_001)).toMatchObject({ ok: false, code: 'skew' });
    expect(checkEd25519Timestamp(parsed.value, alice.keys.identityKeyEd, NOW - 300_001)).toMatchObject({ ok: false, code: 'skew' });
    expect(checkEd25519Timestamp(parsed.value, newAgent('x').keys.identityKeyEd, NOW)).toMatchObject({ ok: false, code: 'signature' });
  });

  it.each([
    ['no header', null],
    ['another scheme', 'Bearer abc'],
    ['missing part', 'Ed25519-Timestamp did:mesh:a 2026-12-08T01:00:00Z'],
    ['extra part', `${'Ed25519-Timestamp did:mesh:a 2026-12-08T01:00:00Z'} ${'A'.repeat(86)} x`],
    ['timestamp without zone', `Ed25519-Timestamp did:mesh:a 2026-12-08T01:00:00 ${'A'.repeat(86)}`],
    ['not a DID', `Ed25519-Timestamp alice 2026-12-08T01:00:00Z ${'A'.repeat(86)}`],
    ['short signature', 'Ed25519-Timestamp did:mesh:a 2026-12-08T01:00:00Z AAAA'],
    ['padded signature', `Ed25519-Timestamp did:mesh:a 2026-12-08T01:00:00Z ${'A'.repeat(86)}==`],
    ['standard alphabet signature', `Ed25519-Timestamp did:mesh:a 2026-12-08T01:00:00Z ${'+'.repeat(86)}`],
  ])('refuses %s as malformed', (_name, header) => {
    expect(parseEd25519TimestampHeader(header)).toMatchObject({ ok: false, code: 'malformed' });
  });
});

describe('decodeBase64UrlStrict', () => {
  it('has one spelling per byte string', () => {
    expect(decodeBase64UrlStrict('AAE')).toEqual(new Uint8Array([0, 1]));
    expect(decodeBase64UrlStrict('AAF')).toBeUndefined(); // stray low bits
    expect(decodeBase64UrlStrict('AAE=')).toBeUndefined();
    expect(decodeBase64UrlStrict('A')).toBeUndefined();
    expect(decodeBase64UrlStrict('AAE', 3)).toBeUndefined();
  });
});
