import { isIPv4, isIPv6 } from 'node:net';

/** A dotted-quad IPv4 address as an unsigned 32-bit number; undefined if it is not one. */
export function parseIPv4(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  return text.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** An IPv6 address (brackets, zone and dotted tail allowed) as its eight 16-bit groups. */
export function parseIPv6(text: string): number[] | undefined {
  const address = text.replace(/^\[(.*)\]$/, '$1').split('%')[0]!;
  if (!isIPv6(address)) return undefined;
  let hex = address;
  if (address.includes('.')) {
    const cut = address.lastIndexOf(':') + 1;
    const v4 = parseIPv4(address.slice(cut))!;
    hex = `${address.slice(0, cut)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [left, right] = hex.split('::') as [string, string | undefined];
  const leftGroups = left ? left.split(':') : [];
  const rightGroups = right ? right.split(':') : [];
  const groups = right === undefined
    ? leftGroups
    : [...leftGroups, ...Array<string>(8 - leftGroups.length - rightGroups.length).fill('0'), ...rightGroups];
  return groups.map((group) => Number.parseInt(group, 16));
}

/** The IPv4 address carried in two 16-bit groups (IPv4-mapped, NAT64 and 6to4 forms). */
export function ipv4FromGroups(high: number, low: number): string {
  return [high >>> 8, high & 0xff, low >>> 8, low & 0xff].join('.');
}

/** The IPv4 address inside an IPv4-mapped one (`::ffff:192.0.2.7`, as dual-stack sockets report it); others unchanged. */
export function unmappedAddress(address: string): string {
  return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

/**
 * Who a request comes from, for per-client limits: an IPv4 address (also when it arrives
 * IPv4-mapped on a dual-stack socket), or the /64 of an IPv6 one, since a single IPv6 host
 * usually holds a whole /64.
 */
export function addressSubject(address: string): string {
  const v4 = unmappedAddress(address);
  if (parseIPv4(v4) !== undefined) return v4;
  const groups = parseIPv6(address);
  return groups ? `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64` : address;
}
