import fc from 'fast-check';
import { assertProperty } from '../../support/property';
import { describe, expect, it } from 'vitest';
import { bytesToBase64, bytesToHex, decodeBase64Strict, decodeHexStrict } from '../../../core/crypto/strict-encoding';

describe('decodeHexStrict', () => {
  it('round-trips any bytes, in either case (property)', () => {
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
        const hex = bytesToHex(bytes);
        expect(decodeHexStrict(hex)).toEqual(bytes);
        expect(decodeHexStrict(hex.toUpperCase(), bytes.length)).toEqual(bytes);
      }),
    );
  });

  it.each([['odd length', 'abc'], ['non-hex', 'zz'], ['space', 'ab cd'], ['0x prefix', '0xab'], ['trailing newline', 'ab\n']])(
    'refuses %s (Buffer.from would silently truncate)',
    (_name, text) => {
      expect(decodeHexStrict(text)).toBeUndefined();
    },
  );

  it('refuses a length other than the expected one', () => {
    expect(decodeHexStrict('00'.repeat(31), 32)).toBeUndefined();
    expect(decodeHexStrict('00'.repeat(33), 32)).toBeUndefined();
  });
});

describe('decodeBase64Strict', () => {
  it('round-trips any bytes (property)', () => {
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
        expect(decodeBase64Strict(bytesToBase64(bytes), bytes.length)).toEqual(bytes);
      }),
    );
  });

  it.each([
    ['missing padding', 'AAE'],
    ['extra padding', 'AAE=='],
    ['url-safe alphabet', 'a-_b'],
    ['whitespace', 'AA E='],
    ['trailing newline', 'AAE=\n'],
    ['non-canonical trailing bits', 'AAF='],
    ['padding in the middle', 'AA==AAAA'],
  ])('refuses %s', (_name, text) => {
    expect(decodeBase64Strict(text)).toBeUndefined();
  });

  it('refuses non-strings without throwing', () => {
    expect(decodeBase64Strict(undefined as unknown as string)).toBeUndefined();
    expect(decodeHexStrict(42 as unknown as string)).toBeUndefined();
  });
});
