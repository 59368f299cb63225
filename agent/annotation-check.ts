// Validation of a pod's tessera.io/pod-networks annotation before the agent wires it. Anyone who may patch the pod
// can write that annotation, so the agent wires only what this node can carry: an address of this node's subnet
// (not its network, broadcast, gateway or management address) or, when the annotation names a kubeovn.io Subnet,
// an address of that Subnet as the agent reads it from the API (not its gateway nor in its excludeIps) that no other live pod's port on this node carries
// on the same logical switch (custom Vpcs may overlap, so one address can live on several switches of a node),
// the subnet's gateway, a well-formed unicast MAC, routes via the gateway that do not cover the subnet itself,
// and a sane MTU. Anything else would give the pod an address OVN never delivers to.
import { nodeSwitch } from '../lib/ovn/names.js';
import { contains, containsNet, firstAddress, formatCIDR, formatIP, lastAddress, offsetOf, parseCIDR, parseInterfaceAddress, parseIP, type IPNet } from '../lib/ipnet/index.js';
import type { PodNetwork } from '../lib/kube/annotations.js';
import type { SubnetAddressing } from '../lib/kube/kubeovn.js';
import type { NodeNet } from './node-init.js';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** The bounds --mtu accepts (agent/config.ts). */
const MTU_MIN = 576;
const MTU_MAX = 9000;

/** A live pod's port on this node and the addresses it carries (from its OVS Interface's ip_addresses). */
export interface PortAddresses {
  ifaceId: string;
  addresses: string[];
  /** The logical switch the agent recorded on the port; absent on ports wired by an agent that did not record it. */
  logicalSwitch?: string;
}

/**
 * A kubeovn.io Subnet the agent read from the API by the name the annotation gives (agent/subnets.ts): its
 * addressing as its spec says, or a problem (no such Subnet, not ready, invalid spec). The pod owner can write
 * the annotation's name but not the Subnet, so the checks below come from the cluster's own object.
 */
export type SubnetLookup = (name: string) => SubnetAddressing | string;

/** What a pod address is checked against: the node subnet, or a Subnet's cidrBlock, gateway and excludeIps. */
interface SwitchNet {
  net: IPNet;
  /** "the node subnet 10.244.1.0/24" or "Subnet net2 (12.0.1.0/24)". */
  label: string;
  /** "the node subnet's" or "Subnet net2's". */
  owner: string;
  gateway: string;
  reserved: Map<string, string>;
  excluded?: (offset: bigint) => boolean;
}

const str = (v: unknown): string => JSON.stringify(v) ?? String(v);

function nodeSwitchNet(node: NodeNet): SwitchNet {
  const net = parseCIDR(node.subnet);
  return {
    net, label: `the node subnet ${node.subnet}`, owner: "the node subnet's", gateway: node.gateway,
    reserved: new Map([
      [formatIP(firstAddress(net)), `the subnet address of ${node.subnet}`],
      [formatIP(lastAddress(net)), `the broadcast address of ${node.subnet}`],
      [node.gateway, `the gateway of ${node.subnet}`],
      [node.mgmtAddress.split('/')[0], `the management port address of ${node.subnet}`],
    ]),
  };
}

function subnetSwitchNet(name: string, a: SubnetAddressing): SwitchNet {
  const cidr = formatCIDR(a.cidr);
  return {
    net: a.cidr, label: `Subnet ${name} (${cidr})`, owner: `Subnet ${name}'s`, gateway: formatIP(a.gateway),
    reserved: new Map([
      [formatIP(firstAddress(a.cidr)), `the subnet address of ${cidr}`],
      [formatIP(lastAddress(a.cidr)), `the broadcast address of ${cidr}`],
      [formatIP(a.gateway), `the gateway of Subnet ${name}`],
    ]),
    excluded: (o) => a.exclude.some(([lo, hi]) => o >= lo && o <= hi),
  };
}

/** The first problem with the network, naming the offending value; undefined when it can be wired. */
export function podNetworkProblem(n: PodNetwork, nodeName: string, node: NodeNet, subnets?: SubnetLookup): string | undefined {
  if (typeof n !== 'object' || n === null) return 'the network is not an object';
  let sw: SwitchNet;
  if (n.logical_switch !== undefined && n.logical_switch !== nodeSwitch(nodeName)) {
    const found = subnets && typeof n.logical_switch === 'string' ? subnets(n.logical_switch) : undefined;
    if (found === undefined) return `logical_switch ${str(n.logical_switch)} is not this node's switch "${nodeSwitch(nodeName)}"`;
    if (typeof found === 'string') return `logical_switch ${str(n.logical_switch)} is not this node's switch "${nodeSwitch(nodeName)}" nor a Subnet it can wire: ${found}`;
    sw = subnetSwitchNet(n.logical_switch, found);
  } else sw = nodeSwitchNet(node);
  return addressProblem(n.ip_addresses, sw) ?? macProblem(n.mac_address) ?? gatewayProblem(n.gateway_ips, sw) ?? routesProblem(n.routes, sw) ?? mtuProblem(n.mtu);
}

function addressProblem(ips: unknown, sw: SwitchNet): string | undefined {
  if (!Array.isArray(ips) || ips.length === 0) return 'no ip_addresses';
  for (const a of ips as unknown[]) {
    let parsed;
    try {
      parsed = parseInterfaceAddress(String(a));
    } catch {
      return `ip address ${str(a)} is not in CIDR form`;
    }
    if (!contains(sw.net, parsed.address)) return `ip address ${str(a)} is outside ${sw.label}`;
    if (parsed.network.prefix !== sw.net.prefix) return `ip address ${str(a)} does not have ${sw.owner} prefix /${sw.net.prefix}`;
    const what = sw.reserved.get(formatIP(parsed.address));
    if (what) return `ip address ${str(a)} is ${what}`;
    if (sw.excluded?.(offsetOf(sw.net, parsed.address))) return `ip address ${str(a)} is in the excludeIps of ${sw.label}`;
  }
  return undefined;
}

export function macProblem(mac: unknown): string | undefined {
  if (typeof mac !== 'string' || !MAC_RE.test(mac.toLowerCase())) return `mac_address ${str(mac)} is not a MAC address`;
  if (parseInt(mac.slice(0, 2), 16) & 1) return `mac_address ${str(mac)} is a multicast MAC`;
  if (/^(00:){5}00$/.test(mac)) return `mac_address ${str(mac)} is all zeros`;
  return undefined;
}

function gatewayProblem(gws: unknown, sw: SwitchNet): string | undefined {
  if (!Array.isArray(gws) || gws.length === 0) return `no gateway_ips (expected ["${sw.gateway}"])`;
  for (const g of gws as unknown[]) {
    if (g !== sw.gateway) return `gateway ${str(g)} is not ${sw.owner} gateway ${sw.gateway}`;
  }
  return undefined;
}

function routesProblem(routes: unknown, sw: SwitchNet): string | undefined {
  if (routes === undefined || routes === null) return undefined;
  if (!Array.isArray(routes)) return `routes ${str(routes)} is not a list`;
  for (const r of routes as unknown[]) {
    const { dest, nextHop } = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
    let net;
    try {
      net = parseCIDR(String(dest));
    } catch {
      return `route ${str(r)}: dest is not a network in CIDR form`;
    }
    if (net.family !== 4) return `route ${str(r)}: dest is not IPv4`;
    if (nextHop !== sw.gateway) return `route ${str(r)}: nextHop is not ${sw.owner} gateway ${sw.gateway}`;
    if (containsNet(sw.net, net)) return `route ${str(r)}: dest lies inside ${sw.label}, which the pod reaches directly`;
  }
  return undefined;
}

export function mtuProblem(mtu: unknown): string | undefined {
  if (mtu === undefined) return undefined;
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < MTU_MIN || mtu > MTU_MAX) return `mtu ${str(mtu)} is not an integer between ${MTU_MIN} and ${MTU_MAX}`;
  return undefined;
}

/**
 * The port (iface-id) of another live pod on the same logical switch that already carries one of the addresses, if
 * any. `logicalSwitch` is the new pod's switch as podNetworkProblem accepted it, so the address lies in that
 * switch's CIDR: a forged switch name moves the pod to another network, never past a neighbour on its own. Subnets
 * of one Vpc do not overlap (the watcher refuses that), so another switch holding the address is another Vpc. A
 * port without a recorded switch (wired by an older agent) counts as a holder: it may be on the same switch.
 */
export function addressHolder(addresses: string[], self: string, ports: PortAddresses[], logicalSwitch: string): string | undefined {
  const mine = new Set(addresses.map(ipOf).filter((a): a is string => a !== undefined));
  for (const p of ports) {
    if (p.ifaceId === self) continue;
    if (p.logicalSwitch !== undefined && p.logicalSwitch !== logicalSwitch) continue;
    if (p.addresses.some((a) => mine.has(ipOf(a) ?? ''))) return p.ifaceId;
  }
  return undefined;
}

/** The address part of "10.244.1.5/24" (or of a bare address), canonical; undefined if unparsable. */
function ipOf(a: string): string | undefined {
  try {
    return formatIP(parseIP(a.split('/')[0].trim()));
  } catch {
    return undefined;
  }
}
