// Address parsing and classification for tool egress (T3-S, T2-I): vectors from the IANA special-purpose registries.
import fc from 'fast-check';
import { assertProperty } from '../../../support/property';
import { describe, expect, it } from 'vitest';
import { classifyAddress } from '../../../../core/router/egress/classify-address';
import { formatIpAddress, looksLikeIpLiteral, parseIpAddress, parseIpv4, parseIpv6 } from '../../../../core/router/egress/ip-address';

describe('parseIpv4 / parseIpv6', () => {
  it('accepts strict forms only', () => {
    expect(parseIpv4('192.0.2.1')).toEqual(new Uint8Array([192, 0, 2, 1]));
    for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '0x7f.0.0.1', '1.2.3.-1', ' 1.2.3.4', '']) expect(parseIpv4(bad), bad).toBeUndefined();
    expect(parseIpv6('::')).toEqual(new Uint8Array(16));
    expect(formatIpAddress({ family: 6, bytes: parseIpv6('2001:0db8:0:0:0:0:0:1')! })).toBe('2001:db8::1');
    expect(formatIpAddress({ family: 6, bytes: parseIpv6('::ffff:10.0.0.1')! })).toBe('::ffff:a00:1');
    for (const bad of ['1:::2', ':1', '1:2:3:4:5:6:7:8:9', '1::2::3', 'fe80::1%eth0', 'g::1', '12345::', '1:2:3:4:5:6:7::8:9', '[::1]']) {
      expect(parseIpv6(bad), bad).toBeUndefined();
    }
  });

  it('round-trips every IPv4 and IPv6 address through format and parse', () => {
    assertProperty(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
      const ip = parseIpAddress(text);
      expect(ip).toBeDefined();
      expect(parseIpAddress(formatIpAddress(ip!))!.bytes).toEqual(ip!.bytes);
    }), { numRuns: 500 });
  });
});

describe('looksLikeIpLiteral', () => {
  it('flags every resolver spelling of an address and no DNS name', () => {
    for (const h of ['127.0.0.1', '2130706433', '0x7f000001', '0x7f.1', '127.1', '017700000001', '::1', '[::1]', '1.2.3.4.']) expect(looksLikeIpLiteral(h), h).toBe(true);
    for (const h of ['api.github.com', '1password.com', 'x1.example', 'a.b.c.d-1']) expect(looksLikeIpLiteral(h), h).toBe(false);
  });
});

describe('classifyAddress', () => {
  const table: Array<[string, string]> = [
    ['169.254.169.254', 'link-local'], ['168.63.129.16', 'platform'], ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'], ['100.127.255.255', 'cgnat'], ['0.0.0.0', 'unspecified'], ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'], ['198.18.0.1', 'reserved'], ['192.0.2.5', 'documentation'],
    ['::1', 'loopback'], ['::', 'unspecified'], ['::ffff:127.0.0.1', 'ipv4-mapped'], ['::ffff:8.8.8.8', 'ipv4-mapped'],
    ['fd00:ec2::254', 'unique-local'], ['fc00::1', 'unique-local'], ['fe80::1', 'link-local'], ['ff02::1', 'multicast'],
    ['64:ff9b::a00:1', 'translation'], ['2002:a00:1::', 'translation'], ['2001:db8::1', 'documentation'], ['2001::1', 'reserved'],
    ['::127.0.0.1', 'reserved'], ['4000::1', 'reserved'],
    ['8.8.8.8', 'public'], ['20.50.1.2', 'public'], ['172.32.0.1', 'public'], ['100.128.0.1', 'public'], ['168.63.129.17', 'public'],
    ['2606:4700::1111', 'public'], ['2a01:111:f100::1', 'public'],
    ['not-an-address', 'reserved'], ['127.1', 'reserved'],
  ];
  it.each(table)('%s is %s', (addr, cls) => { expect(classifyAddress(addr)).toBe(cls); });

  it('calls public only what lies outside every special range (property over random IPv4)', () => {
    const special = [[0, 8], [10, 8], [100 * 256 + 64, 10], [127, 8], [169 * 256 + 254, 16], [172 * 256 + 16, 12], [192 * 256 + 168, 16]] as const;
    assertProperty(fc.property(fc.ipV4(), (text) => {
      const [a, b] = text.split('.').map(Number) as [number, number];
      const inSpecial = special.some(([p, bits]) => (bits === 8 ? a === p : ((a * 256 + b) >> (16 - bits)) === (p >> (16 - bits))));
      if (inSpecial || a >= 224) expect(classifyAddress(text)).not.toBe('public');
    }), { numRuns: 2000 });
  });
});
