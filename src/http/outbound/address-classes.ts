import { ipv4FromGroups, parseIPv4, parseIPv6 } from '../ip-address.ts';

/** Why an address may not be connected to: its class and the special-purpose block it is in. */
export interface ForbiddenAddress {
  kind: string;
  range: string;
  /** Set when an IPv6 address carries a forbidden IPv4 one (IPv4-mapped, NAT64, 6to4, ...). */
  embeddedIn?: string;
}

interface Block<T> { network: T; prefix: number; kind: string; range: string }

function v4Block(cidr: string, kind: string, note?: string): Block<number> {
  const [network, prefix] = cidr.split('/') as [string, string];
  return { network: parseIPv4(network)!, prefix: Number(prefix), kind, range: note ? `${cidr}, ${note}` : cidr };
}

function v6Block(cidr: string, kind: string, note?: string): Block<number[]> {
  const [network, prefix] = cidr.split('/') as [string, string];
  return { network: parseIPv6(network)!, prefix: Number(prefix), kind, range: note ? `${cidr}, ${note}` : cidr };
}

// IANA IPv4 Special-Purpose Address Registry, plus multicast and the reserved class E.
const IPV4_BLOCKS = [
  v4Block('255.255.255.255/32', 'broadcast'),
  v4Block('0.0.0.0/32', 'unspecified'),
  v4Block('0.0.0.0/8', 'this-network'),
  v4Block('10.0.0.0/8', 'private'),
  v4Block('100.64.0.0/10', 'shared (CGNAT)'),
  v4Block('127.0.0.0/8', 'loopback'),
  v4Block('169.254.0.0/16', 'link-local', 'cloud metadata'),
  v4Block('172.16.0.0/12', 'private'),
  v4Block('192.0.0.0/24', 'IETF protocol assignments'),
  v4Block('192.0.2.0/24', 'documentation'),
  v4Block('192.31.196.0/24', 'reserved', 'AS112'),
  v4Block('192.52.193.0/24', 'reserved', 'AMT'),
  v4Block('192.88.99.0/24', 'reserved', '6to4 relay anycast'),
  v4Block('192.168.0.0/16', 'private'),
  v4Block('192.175.48.0/24', 'reserved', 'AS112'),
  v4Block('198.18.0.0/15', 'benchmarking'),
  v4Block('198.51.100.0/24', 'documentation'),
  v4Block('203.0.113.0/24', 'documentation'),
  v4Block('224.0.0.0/4', 'multicast'),
  v4Block('240.0.0.0/4', 'reserved'),
];

const IPV6_EXACT = [v6Block('::/128', 'unspecified'), v6Block('::1/128', 'loopback')];

/** IPv6 blocks that carry an IPv4 address in two groups; public ones may pass where noted. */
const IPV6_EMBEDDINGS = [
  { block: v6Block('::ffff:0:0/96', 'IPv4-mapped'), groups: [6, 7], publicPasses: true },
  { block: v6Block('::/96', 'IPv4-compatible'), groups: [6, 7], publicPasses: false },
  { block: v6Block('64:ff9b::/96', 'NAT64'), groups: [6, 7], publicPasses: true },
  { block: v6Block('2002::/16', '6to4'), groups: [1, 2], publicPasses: true },
] as const;

const IPV6_BLOCKS = [
  v6Block('64:ff9b:1::/48', 'reserved', 'local-use NAT64'),
  v6Block('100::/64', 'discard'),
  v6Block('2001::/32', 'reserved', 'Teredo'),
  v6Block('2001:db8::/32', 'documentation'),
  v6Block('2001::/23', 'IETF protocol assignments'),
  v6Block('3fff::/20', 'documentation'),
  v6Block('fc00::/7', 'unique-local'),
  v6Block('fe80::/10', 'link-local'),
  v6Block('fec0::/10', 'site-local'),
  v6Block('ff00::/8', 'multicast'),
];

const GLOBAL_UNICAST = v6Block('2000::/3', 'global unicast');

function inV4(address: number, block: Block<number>): boolean {
  const mask = block.prefix === 0 ? 0 : (~0 << (32 - block.prefix)) >>> 0;
  return ((address & mask) >>> 0) === ((block.network & mask) >>> 0);
}

function inV6(groups: number[], block: Block<number[]>): boolean {
  for (let index = 0; index < 8; index += 1) {
    const bits = Math.min(16, Math.max(0, block.prefix - 16 * index));
    if (bits === 0) return true;
    const mask = (0xffff << (16 - bits)) & 0xffff;
    if ((groups[index]! & mask) !== (block.network[index]! & mask)) return false;
  }
  return true;
}

function classifyIPv4(address: number): ForbiddenAddress | undefined {
  const block = IPV4_BLOCKS.find((candidate) => inV4(address, candidate));
  return block && { kind: block.kind, range: block.range };
}

function classifyIPv6(groups: number[]): ForbiddenAddress | undefined {
  const exact = IPV6_EXACT.find((block) => inV6(groups, block));
  if (exact) return { kind: exact.kind, range: exact.range };
  for (const { block, groups: [high, low], publicPasses } of IPV6_EMBEDDINGS) {
    if (!inV6(groups, block)) continue;
    const inner = classifyIPv4(parseIPv4(ipv4FromGroups(groups[high]!, groups[low]!))!);
    if (inner) return { ...inner, embeddedIn: block.kind };
    return publicPasses ? undefined : { kind: 'reserved', range: `${block.range}, deprecated` };
  }
  const block = IPV6_BLOCKS.find((candidate) => inV6(groups, candidate));
  if (block) return { kind: block.kind, range: block.range };
  if (!inV6(groups, GLOBAL_UNICAST)) return { kind: 'reserved', range: 'outside global unicast 2000::/3' };
  return undefined;
}

/** Undefined for a public unicast address; otherwise what makes it off limits. */
export function forbiddenAddress(address: string): ForbiddenAddress | undefined {
  const v4 = parseIPv4(address);
  if (v4 !== undefined) return classifyIPv4(v4);
  const v6 = parseIPv6(address);
  if (v6 === undefined) return { kind: 'invalid', range: 'not an IP address' };
  return classifyIPv6(v6);
}

/** "loopback (127.0.0.0/8)", "private (10.0.0.0/8) in IPv4-mapped form". */
export function describeForbidden(forbidden: ForbiddenAddress): string {
  return `${forbidden.kind} (${forbidden.range})${forbidden.embeddedIn ? ` in ${forbidden.embeddedIn} form` : ''}`;
}
