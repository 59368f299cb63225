// Pod addresses within one node subnet. Offsets 0 (network), 1 (router port, the pod gateway),
// 2 (management port k8s-<node>) and, for IPv4, the broadcast address are never handed out.
// The state is rebuilt on start from the NB ports the watcher committed (ipam/rebuild.ts), never from
// pod annotations, which anyone allowed to patch a pod can write.
import { type IPNet, type IPAddr, addressAt, offsetOf, size, formatIP, formatCIDR, contains, parseIP } from '../../lib/ipnet/index.js';
import { IndexAllocator } from './index-allocator.js';

export class AddressExhaustedError extends Error {}
export class AddressConflictError extends Error {}

export const GATEWAY_OFFSET = 1n;
export const MANAGEMENT_OFFSET = 2n;
export const FIRST_POD_OFFSET = 3n;

/**
 * A Subnet's own layout (kubeovn.io/v1): the gateway where it says, no management port, and excludeIps
 * (offsets, inclusive ranges) never handed out. Without it, a node subnet's fixed layout applies.
 */
export interface SubnetLayout {
  gateway: IPAddr;
  exclude: Array<[bigint, bigint]>;
}

export class SubnetIPAM {
  private readonly slots: IndexAllocator;
  private readonly gatewayOffset: bigint;
  /** Offsets inside the pod range that are never handed out. */
  private readonly skipped: (o: bigint) => boolean;
  private readonly skippedCount: bigint;

  constructor(readonly subnet: IPNet, readonly layout?: SubnetLayout) {
    const n = size(subnet);
    const end = subnet.family === 4 ? n - 1n : n;
    const first = layout ? 1n : FIRST_POD_OFFSET;
    if (end <= first) throw new Error(`subnet ${formatCIDR(subnet)} is too small for pods`);
    this.gatewayOffset = layout ? offsetOf(subnet, layout.gateway) : GATEWAY_OFFSET;
    const ranges: Array<[bigint, bigint]> = layout ? [[this.gatewayOffset, this.gatewayOffset], ...layout.exclude] : [];
    this.skipped = (o) => ranges.some(([lo, hi]) => o >= lo && o <= hi);
    this.skippedCount = countSkipped(ranges, first, end);
    this.slots = new IndexAllocator(first, end, layout ? this.skipped : undefined);
  }

  get gateway(): IPAddr {
    return addressAt(this.subnet, this.gatewayOffset);
  }

  get managementIP(): IPAddr {
    return addressAt(this.subnet, MANAGEMENT_OFFSET);
  }

  /** Address held by `owner`, if any. */
  addressOf(owner: string): IPAddr | undefined {
    const o = this.slots.indexOf(owner);
    return o === undefined ? undefined : addressAt(this.subnet, o);
  }

  ownerOf(ip: IPAddr | string): string | undefined {
    const a = typeof ip === 'string' ? parseIP(ip) : ip;
    if (!contains(this.subnet, a)) return undefined;
    return this.slots.holder(offsetOf(this.subnet, a));
  }

  /** Why `owner` cannot have `ip` (outside the subnet, excluded, someone else's, or it holds another), else undefined. */
  problem(ip: IPAddr, owner: string): string | undefined {
    if (!contains(this.subnet, ip)) return `${formatIP(ip)} is not in subnet ${formatCIDR(this.subnet)}`;
    const o = offsetOf(this.subnet, ip);
    if (o < this.slots.start || o >= this.slots.end) return `${formatIP(ip)} is reserved in subnet ${formatCIDR(this.subnet)} (network, gateway, management or broadcast)`;
    if (this.layout && this.skipped(o)) return `${formatIP(ip)} is the gateway or in excludeIps of subnet ${formatCIDR(this.subnet)}`;
    const holder = this.slots.holder(o);
    if (holder !== undefined && holder !== owner) return `${formatIP(ip)} is already allocated to ${holder}`;
    const mine = this.slots.indexOf(owner);
    if (mine !== undefined && mine !== o) return `${owner} already holds ${formatIP(addressAt(this.subnet, mine))}, not ${formatIP(ip)}`;
    return undefined;
  }

  /** Claims a specific address for `owner` (a rebuild or an explicit request). */
  reserve(ip: IPAddr | string, owner: string): IPAddr {
    const a = typeof ip === 'string' ? parseIP(ip) : ip;
    const problem = this.problem(a, owner);
    if (problem) throw new AddressConflictError(problem);
    this.slots.reserve(offsetOf(this.subnet, a), owner);
    return a;
  }

  /** The owner's address, allocating the next free one (round robin, so freed addresses rest a while). */
  allocate(owner: string): IPAddr {
    const o = this.slots.allocate(owner);
    if (o !== undefined) return addressAt(this.subnet, o);
    throw new AddressExhaustedError(`subnet ${formatCIDR(this.subnet)} has no free address for ${owner} (${this.slots.span} pod addresses, all allocated)`);
  }

  /** Frees the owner's address; a no-op if it holds none. */
  release(owner: string): void {
    this.slots.release(owner);
  }

  get allocated(): number {
    return this.slots.allocated;
  }

  /** How many pod addresses the subnet has in all. */
  get capacity(): number {
    return Number(this.slots.span - this.skippedCount);
  }

  entries(): Array<[string, string]> {
    return this.slots.entries().map(([owner, o]) => [owner, formatIP(addressAt(this.subnet, o))]);
  }
}

/** How many offsets of [start, end) the (possibly overlapping) inclusive ranges cover. */
function countSkipped(ranges: Array<[bigint, bigint]>, start: bigint, end: bigint): bigint {
  const sorted = ranges.map(([lo, hi]): [bigint, bigint] => [lo < start ? start : lo, hi >= end ? end - 1n : hi]).filter(([lo, hi]) => lo <= hi).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  let n = 0n;
  let upTo = start - 1n;
  for (const [lo, hi] of sorted) {
    const from = lo > upTo ? lo : upTo + 1n;
    if (hi >= from) n += hi - from + 1n;
    if (hi > upTo) upTo = hi;
  }
  return n;
}

const layoutKey = (l: SubnetLayout | undefined): string => (l ? `${formatIP(l.gateway)} ${l.exclude.map(([a, b]) => `${a}-${b}`).join(',')}` : '');

/** One SubnetIPAM per logical switch (node), plus which switch each owner's address is on. */
export class PodIPAM {
  private readonly switches = new Map<string, SubnetIPAM>();
  private readonly switchOf = new Map<string, string>();

  setSubnet(ls: string, subnet: IPNet, layout?: SubnetLayout): SubnetIPAM {
    const have = this.switches.get(ls);
    if (have && formatCIDR(have.subnet) === formatCIDR(subnet) && layoutKey(have.layout) === layoutKey(layout)) return have;
    const s = new SubnetIPAM(subnet, layout);
    // Same network, other gateway/excludeIps: the holders keep their addresses where the new layout allows them.
    if (have && formatCIDR(have.subnet) === formatCIDR(subnet)) {
      for (const [owner, ip] of have.entries()) {
        if (s.problem(parseIP(ip), owner)) this.switchOf.delete(owner);
        else s.reserve(ip, owner);
      }
    } else if (have) for (const [owner] of have.entries()) this.switchOf.delete(owner);
    this.switches.set(ls, s);
    return s;
  }

  forSwitch(ls: string): SubnetIPAM | undefined {
    return this.switches.get(ls);
  }

  /** Drops a switch and every address on it (its ports are gone). */
  removeSwitch(ls: string): void {
    const s = this.switches.get(ls);
    if (s) for (const [owner] of s.entries()) this.switchOf.delete(owner);
    this.switches.delete(ls);
  }

  private need(ls: string): SubnetIPAM {
    const s = this.switches.get(ls);
    if (!s) throw new AddressConflictError(`logical switch ${ls} has no subnet yet`);
    return s;
  }

  /** Where the owner's address is, if it has one. */
  holding(owner: string): { ls: string; ip: IPAddr } | undefined {
    const ls = this.switchOf.get(owner);
    const ip = ls ? this.switches.get(ls)?.addressOf(owner) : undefined;
    return ls && ip ? { ls, ip } : undefined;
  }

  reserve(ls: string, ip: IPAddr | string, owner: string): IPAddr {
    const a = this.need(ls).reserve(ip, owner);
    this.switchOf.set(owner, ls);
    return a;
  }

  allocate(ls: string, owner: string): IPAddr {
    const a = this.need(ls).allocate(owner);
    this.switchOf.set(owner, ls);
    return a;
  }

  /** Frees the owner's address on one switch only (the old one of a pod that moved). */
  releaseOn(ls: string, owner: string): void {
    this.switches.get(ls)?.release(owner);
    if (this.switchOf.get(owner) === ls) this.switchOf.delete(owner);
  }

  release(owner: string): void {
    const ls = this.switchOf.get(owner);
    if (ls === undefined) return;
    this.switches.get(ls)?.release(owner);
    this.switchOf.delete(owner);
  }

  get allocated(): number {
    return this.switchOf.size;
  }

  /** Addresses used and free per switch, for the IPAM gauges. */
  usage(): Array<{ ls: string; subnet: string; used: number; free: number }> {
    return [...this.switches].map(([ls, s]) => ({ ls, subnet: formatCIDR(s.subnet), used: s.allocated, free: s.capacity - s.allocated }));
  }

  /** Every (owner, switch, ip), for leak and duplicate checks. */
  entries(): Array<{ owner: string; ls: string; ip: string }> {
    return [...this.switches].flatMap(([ls, s]) => s.entries().map(([owner, ip]) => ({ owner, ls, ip })));
  }
}
