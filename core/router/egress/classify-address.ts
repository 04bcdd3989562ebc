// Which resolved addresses a tool tunnel may reach (T3-S, T2-I): only globally routable unicast. Everything in the
// IANA special-purpose registries (RFC 6890 and successors) is refused, plus Azure's platform endpoints, so an
// allowlisted name that resolves (or is rebound) into the cluster, the node, IMDS or the WireServer goes nowhere.
import { parseIpAddress, type IpAddress } from './ip-address';

export const ADDRESS_CLASSES = [
  'public', 'unspecified', 'loopback', 'private', 'cgnat', 'link-local', 'platform', 'documentation', 'multicast',
  'reserved', 'ipv4-mapped', 'translation', 'unique-local',
] as const;
export type AddressClass = (typeof ADDRESS_CLASSES)[number];

interface Range { readonly prefix: Uint8Array; readonly bits: number; readonly cls: AddressClass }

function range(cidr: string, cls: AddressClass): Range {
  const [text, bits] = cidr.split('/') as [string, string];
  const ip = parseIpAddress(text);
  if (!ip) throw new Error(`bad range literal ${cidr}`);
  return { prefix: ip.bytes, bits: Number(bits), cls };
}

// Most specific first: the first match wins.
const V4: readonly Range[] = [
  range('168.63.129.16/32', 'platform'), // Azure WireServer: host agent, DNS, health; never a tool
  range('0.0.0.0/8', 'unspecified'),
  range('10.0.0.0/8', 'private'),
  range('100.64.0.0/10', 'cgnat'), // RFC 6598 shared address space (carrier NAT, some pod networks)
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local'), // 169.254.169.254 is IMDS on Azure, AWS and GCP
  range('172.16.0.0/12', 'private'),
  range('192.0.0.0/24', 'reserved'),
  range('192.0.2.0/24', 'documentation'),
  range('192.88.99.0/24', 'reserved'), // 6to4 relay anycast (RFC 7526)
  range('192.168.0.0/16', 'private'),
  range('198.18.0.0/15', 'reserved'), // benchmarking
  range('198.51.100.0/24', 'documentation'),
  range('203.0.113.0/24', 'documentation'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved'), // includes 255.255.255.255
];

const V6: readonly Range[] = [
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('::ffff:0:0/96', 'ipv4-mapped'), // would reach the embedded IPv4 address, private ones included
  range('::/96', 'reserved'), // IPv4-compatible (deprecated)
  range('64:ff9b::/96', 'translation'), // NAT64 well-known prefix: embeds any IPv4, private ones included
  range('64:ff9b:1::/48', 'translation'),
  range('100::/64', 'reserved'), // discard-only
  range('2001:db8::/32', 'documentation'),
  range('2001::/23', 'reserved'), // IETF protocol assignments, Teredo included
  range('2002::/16', 'translation'), // 6to4: embeds an IPv4 address
  range('3fff::/20', 'documentation'), // RFC 9637
  range('fc00::/7', 'unique-local'), // includes AWS's fd00:ec2::254 metadata address
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'private'), // site-local (deprecated)
  range('ff00::/8', 'multicast'),
];
const V6_GLOBAL = range('2000::/3', 'public');

function inRange(bytes: Uint8Array, r: Range): boolean {
  let bits = r.bits;
  for (let i = 0; bits > 0; i += 1, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== (r.prefix[i]! & mask)) return false;
  }
  return true;
}

/** The class of a parsed address; IPv6 outside 2000::/3 (unallocated) is `reserved`. */
export function classifyIp(ip: IpAddress): AddressClass {
  const table = ip.family === 4 ? V4 : V6;
  for (const r of table) if (inRange(ip.bytes, r)) return r.cls;
  if (ip.family === 6 && !inRange(ip.bytes, V6_GLOBAL)) return 'reserved';
  return 'public';
}

/** The class of an address in text form; text that is not a strict literal is `reserved` (never public). */
export function classifyAddress(text: string): AddressClass {
  const ip = parseIpAddress(text);
  return ip ? classifyIp(ip) : 'reserved';
}
