// The one hex SHA-256 helper: FIPS 180-4 example vectors, parts hashed as their concatenation, strings as UTF-8.
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../core/crypto/sha256-hex';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('sha256Hex', () => {
  it('matches the FIPS 180-4 vectors ("abc", the empty message, the 448-bit message)', () => {
    expect(sha256Hex(utf8('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('hashes several parts as their concatenation, and a string as its UTF-8 bytes', () => {
    expect(sha256Hex(utf8('a'), 'b', utf8('c'))).toBe(sha256Hex('abc'));
    expect(sha256Hex('é✓')).toBe(sha256Hex(utf8('é✓')));
  });
});
