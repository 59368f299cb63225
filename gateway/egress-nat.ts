// Egress SNAT policy of a gateway router: which pod sources leave with the node's IP. Today: the whole cluster CIDR.
// The hook for per-namespace / per-Subnet NAT disabling (Vpc/Subnet work): a policy lists source CIDRs whose traffic
// must keep its pod IP; they get no SNAT row here, and when they carve holes into the cluster CIDR the SNAT is split
// into the CIDRs that remain. The caller (run) fills `exempt` from whatever object model lands later.
import { bitsOf, formatCIDR, parseCIDR, containsNet, overlaps, type IPNet } from '../lib/ipnet/index.js';
import { gatewayIds } from '../lib/ovn/names.js';
import type { NatRow } from './topology.js';

export interface EgressNatPolicy {
  /** Source CIDRs (inside the cluster CIDR) that must not be SNATed, e.g. a Subnet with natOutgoing=false. */
  exempt: string[];
}

export const DEFAULT_EGRESS: EgressNatPolicy = { exempt: [] };

/** `net` minus the `holes`, as a minimal list of CIDRs (IPv4). */
export function subtract(net: IPNet, holes: IPNet[]): IPNet[] {
  const relevant = holes.filter((h) => overlaps(net, h));
  if (relevant.length === 0) return [net];
  if (relevant.some((h) => containsNet(h, net))) return [];
  const half = net.prefix + 1;
  const size = 1n << BigInt(bitsOf(net.family) - half);
  const lo: IPNet = { family: net.family, value: net.value, prefix: half };
  const hi: IPNet = { family: net.family, value: net.value + size, prefix: half };
  return [...subtract(lo, relevant), ...subtract(hi, relevant)];
}

export function egressNats(policy: EgressNatPolicy, o: { node: string; clusterSubnet: string; physicalIp: string }): NatRow[] {
  const cluster = parseCIDR(o.clusterSubnet);
  const holes = policy.exempt.map((c) => parseCIDR(c, { strict: false }));
  return subtract(cluster, holes).map((n) => ({
    type: 'snat' as const,
    logical_ip: formatCIDR(n),
    external_ip: o.physicalIp,
    external_ids: gatewayIds(o.node, 'egress-snat'),
  }));
}
