import { describe, expect, it } from 'vitest';
import { hmacSha256, sha256 } from '../../../core/crypto/hmac-sha256';
import { bytesToHex, decodeHexStrict } from '../../../core/crypto/strict-encoding';
import { NOT_BYTES } from './hostile-values';

const hex = (h: string): Uint8Array => decodeHexStrict(h)!;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// RFC 4231 §4.2, §4.3 and §4.7 (test cases 1, 2 and 6), HMAC-SHA-256 outputs.
const RFC4231 = [
  { key: hex('0b'.repeat(20)), data: utf8('Hi There'), mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7' },
  { key: utf8('Jefe'), data: utf8('what do ya want for nothing?'), mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843' },
  {
    key: hex('aa'.repeat(131)),
    data: utf8('Test Using Larger Than Block-Size Key - Hash Key First'),
    mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  },
];

describe('hmacSha256', () => {
  it.each(RFC4231.map((v, i) => [i, v] as const))('matches RFC 4231 vector #%i', (_i, v) => {
    expect(bytesToHex(hmacSha256(v.key, v.data))).toBe(v.mac);
  });

  it('MACs the concatenation of its parts', () => {
    const v = RFC4231[1]!;
    const whole = hmacSha256(v.key, v.data);
    expect(hmacSha256(v.key, v.data.subarray(0, 5), v.data.subarray(5))).toEqual(whole);
  });

  it.each(NOT_BYTES)('throws TypeError for a %s key or part', (_name, value) => {
    expect(() => hmacSha256(value as Uint8Array, new Uint8Array(1))).toThrow(TypeError);
    expect(() => hmacSha256(new Uint8Array(1), value as Uint8Array)).toThrow(TypeError);
  });
});

describe('sha256', () => {
  it('matches the FIPS 180-2 "abc" vector and the empty-string digest', () => {
    expect(bytesToHex(sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(bytesToHex(sha256())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
