// IP math shared by the watcher (IPAM, subnet carving, config checks) and the other daemons.
// Addresses are BigInt so IPv4 and IPv6 share one code path; text forms follow RFC 4291/5952.

export type Family = 4 | 6;

export interface IPAddr {
  readonly family: Family;
  readonly value: bigint;
}

/** A network: `value` is the network address (host bits zero). */
export interface IPNet {
  readonly family: Family;
  readonly value: bigint;
  readonly prefix: number;
}

export class IPNetError extends Error {}

export const bitsOf = (family: Family): number => (family === 4 ? 32 : 128);
const maxOf = (family: Family): bigint => (1n << BigInt(bitsOf(family))) - 1n;

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseIPv6(s: string): bigint | undefined {
  if (s.length === 0 || s.length > 45) return undefined;
  let head = s;
  let tailV4: bigint | undefined;
  // Embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIPv4(s.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = head.split('::');
  if (dbl.length > 2) return undefined;
  const groupsOf = (t: string): string[] | undefined => (t === '' ? [] : t.split(':'));
  const left = groupsOf(dbl[0]);
  const right = dbl.length === 2 ? groupsOf(dbl[1]) : [];
  if (!left || !right) return undefined;
  const missing = 8 - left.length - right.length;
  if (dbl.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...left, ...Array<string>(dbl.length === 2 ? missing : 0).fill('0'), ...right];
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== undefined) v = (v & ~0xffffffffn) | tailV4;
  return v;
}

/** Parses an IPv4 or IPv6 address; throws IPNetError naming the input. */
export function parseIP(s: string): IPAddr {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return { family: 4, value: v4 };
  if (s.includes(':')) {
    const v6 = parseIPv6(s);
    if (v6 !== undefined) return { family: 6, value: v6 };
  }
  throw new IPNetError(`not an IP address: "${s}"`);
}

export function isIP(s: string): boolean {
  try {
    parseIP(s);
    return true;
  } catch {
    return false;
  }
}

export function formatIP(a: IPAddr): string {
  if (a.family === 4) {
    const v = a.value;
    return [24n, 16n, 8n, 0n].map((sh) => String((v >> sh) & 255n)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((a.value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

const hostMask = (family: Family, prefix: number): bigint => (1n << BigInt(bitsOf(family) - prefix)) - 1n;

export interface ParseCIDROptions {
  /** Refuse host bits set ("10.0.0.1/8"); otherwise they are masked off. Default true. */
  strict?: boolean;
}

/** Parses "a.b.c.d/n" or "x::/n" into a network; throws IPNetError naming the input. */
export function parseCIDR(s: string, opts: ParseCIDROptions = {}): IPNet {
  const slash = s.indexOf('/');
  if (slash < 0) throw new IPNetError(`not a CIDR (missing /prefix): "${s}"`);
  const addrText = s.slice(0, slash);
  const prefixText = s.slice(slash + 1);
  let addr: IPAddr;
  try {
    addr = parseIP(addrText);
  } catch {
    throw new IPNetError(`not a CIDR (bad address): "${s}"`);
  }
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > bitsOf(addr.family)) {
    throw new IPNetError(`not a CIDR (prefix must be 0..${bitsOf(addr.family)}): "${s}"`);
  }
  const prefix = Number(prefixText);
  const hm = hostMask(addr.family, prefix);
  if ((addr.value & hm) !== 0n && opts.strict !== false) {
    throw new IPNetError(`CIDR has host bits set: "${s}" (did you mean ${formatCIDR(networkOf(addr, prefix))}?)`);
  }
  return { family: addr.family, value: addr.value & ~hm & maxOf(addr.family), prefix };
}

/** The network of the given prefix length that contains `a`. */
export function networkOf(a: IPAddr, prefix: number): IPNet {
  return { family: a.family, value: a.value & ~hostMask(a.family, prefix) & maxOf(a.family), prefix };
}

export function formatCIDR(n: IPNet): string {
  return `${formatIP(n)}/${n.prefix}`;
}

/** Number of addresses in the network. */
export function size(n: IPNet): bigint {
  return 1n << BigInt(bitsOf(n.family) - n.prefix);
}

export function firstAddress(n: IPNet): IPAddr {
  return { family: n.family, value: n.value };
}

export function lastAddress(n: IPNet): IPAddr {
  return { family: n.family, value: n.value | hostMask(n.family, n.prefix) };
}

export function contains(n: IPNet, a: IPAddr): boolean {
  return n.family === a.family && (a.value & ~hostMask(n.family, n.prefix) & maxOf(n.family)) === n.value;
}

/** True when `inner` lies entirely within `outer`. */
export function containsNet(outer: IPNet, inner: IPNet): boolean {
  return outer.family === inner.family && inner.prefix >= outer.prefix && contains(outer, inner);
}

export function overlaps(a: IPNet, b: IPNet): boolean {
  return a.family === b.family && (containsNet(a, b) || containsNet(b, a));
}

/** The address at `offset` from the network address; throws if outside the network. */
export function addressAt(n: IPNet, offset: bigint | number): IPAddr {
  const o = BigInt(offset);
  if (o < 0n || o >= size(n)) throw new IPNetError(`offset ${o} is outside ${formatCIDR(n)}`);
  return { family: n.family, value: n.value + o };
}

/** Offset of `a` from the network address; throws if `a` is not in `n`. */
export function offsetOf(n: IPNet, a: IPAddr): bigint {
  if (!contains(n, a)) throw new IPNetError(`${formatIP(a)} is not in ${formatCIDR(n)}`);
  return a.value - n.value;
}

/** How many subnets of length `prefix` fit in `n`. */
export function subnetCount(n: IPNet, prefix: number): bigint {
  if (prefix < n.prefix || prefix > bitsOf(n.family)) {
    throw new IPNetError(`cannot carve /${prefix} subnets out of ${formatCIDR(n)}`);
  }
  return 1n << BigInt(prefix - n.prefix);
}

/** The `index`-th subnet of length `prefix` inside `n`. */
export function nthSubnet(n: IPNet, prefix: number, index: bigint | number): IPNet {
  const i = BigInt(index);
  const count = subnetCount(n, prefix);
  if (i < 0n || i >= count) throw new IPNetError(`subnet index ${i} is outside 0..${count - 1n} of ${formatCIDR(n)}`);
  return { family: n.family, value: n.value + (i << BigInt(bitsOf(n.family) - prefix)), prefix };
}

/** Index of `sub` among the /sub.prefix subnets of `n`; throws if `sub` is not one of them. */
export function subnetIndex(n: IPNet, sub: IPNet): bigint {
  if (!containsNet(n, sub)) throw new IPNetError(`${formatCIDR(sub)} is not inside ${formatCIDR(n)}`);
  return (sub.value - n.value) >> BigInt(bitsOf(n.family) - sub.prefix);
}

/** Iterates the addresses of `n` from `startOffset`, at most `limit` of them (bounded on purpose). */
export function* addresses(n: IPNet, startOffset: bigint | number = 0n, limit = 1 << 20): Generator<IPAddr> {
  const total = size(n);
  let o = BigInt(startOffset);
  for (let k = 0; k < limit && o < total; k++, o++) yield { family: n.family, value: n.value + o };
}

/** "10.244.1.5" + 24 → "10.244.1.5/24" (the interface-address form used in annotations). */
export function withPrefix(a: IPAddr, prefix: number): string {
  return `${formatIP(a)}/${prefix}`;
}

/** Splits "10.244.1.5/24" into address and the network it sits in (host bits kept in `address`). */
export function parseInterfaceAddress(s: string): { address: IPAddr; network: IPNet } {
  const net = parseCIDR(s, { strict: false });
  const address = parseIP(s.slice(0, s.indexOf('/')));
  return { address, network: net };
}
