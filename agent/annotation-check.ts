// Validation of a pod's tessera.io/pod-networks annotation before the agent wires it. Anyone who may patch the pod
// can write that annotation, so the agent wires only what this node can carry: an address of this node's subnet
// (not its network, broadcast, gateway or management address) that no other live pod's port on this node carries,
// the subnet's gateway, a well-formed unicast MAC, routes via the gateway that do not cover the subnet itself,
// and a sane MTU. Anything else would give the pod an address OVN never delivers to.
import { nodeSwitch } from '../lib/ovn/names.js';
import { contains, containsNet, firstAddress, formatIP, lastAddress, parseCIDR, parseInterfaceAddress, parseIP } from '../lib/ipnet/index.js';
import type { PodNetwork } from '../lib/kube/annotations.js';
import type { NodeNet } from './node-init.js';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** The bounds --mtu accepts (agent/config.ts). */
const MTU_MIN = 576;
const MTU_MAX = 9000;

/** A live pod's port on this node and the addresses it carries (from its OVS Interface's ip_addresses). */
export interface PortAddresses {
  ifaceId: string;
  addresses: string[];
}

const str = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** The first problem with the network, naming the offending value; undefined when it can be wired. */
export function podNetworkProblem(n: PodNetwork, nodeName: string, node: NodeNet): string | undefined {
  if (typeof n !== 'object' || n === null) return 'the network is not an object';
  if (n.logical_switch !== undefined && n.logical_switch !== nodeSwitch(nodeName)) {
    return `logical_switch ${str(n.logical_switch)} is not this node's switch "${nodeSwitch(nodeName)}"`;
  }
  return addressProblem(n.ip_addresses, node) ?? macProblem(n.mac_address) ?? gatewayProblem(n.gateway_ips, node) ?? routesProblem(n.routes, node) ?? mtuProblem(n.mtu);
}

function addressProblem(ips: unknown, node: NodeNet): string | undefined {
  if (!Array.isArray(ips) || ips.length === 0) return 'no ip_addresses';
  const subnet = parseCIDR(node.subnet);
  const reserved = new Map([
    [formatIP(firstAddress(subnet)), 'the subnet address'],
    [formatIP(lastAddress(subnet)), 'the broadcast address'],
    [node.gateway, 'the gateway'],
    [node.mgmtAddress.split('/')[0], 'the management port address'],
  ]);
  for (const a of ips as unknown[]) {
    let parsed;
    try {
      parsed = parseInterfaceAddress(String(a));
    } catch {
      return `ip address ${str(a)} is not in CIDR form`;
    }
    if (!contains(subnet, parsed.address)) return `ip address ${str(a)} is outside the node subnet ${node.subnet}`;
    if (parsed.network.prefix !== subnet.prefix) return `ip address ${str(a)} does not have the node subnet's prefix /${subnet.prefix}`;
    const what = reserved.get(formatIP(parsed.address));
    if (what) return `ip address ${str(a)} is ${what} of ${node.subnet}`;
  }
  return undefined;
}

function macProblem(mac: unknown): string | undefined {
  if (typeof mac !== 'string' || !MAC_RE.test(mac.toLowerCase())) return `mac_address ${str(mac)} is not a MAC address`;
  if (parseInt(mac.slice(0, 2), 16) & 1) return `mac_address ${str(mac)} is a multicast MAC`;
  if (/^(00:){5}00$/.test(mac)) return `mac_address ${str(mac)} is all zeros`;
  return undefined;
}

function gatewayProblem(gws: unknown, node: NodeNet): string | undefined {
  if (!Array.isArray(gws) || gws.length === 0) return `no gateway_ips (expected ["${node.gateway}"])`;
  for (const g of gws as unknown[]) {
    if (g !== node.gateway) return `gateway ${str(g)} is not the node subnet's gateway ${node.gateway}`;
  }
  return undefined;
}

function routesProblem(routes: unknown, node: NodeNet): string | undefined {
  if (routes === undefined || routes === null) return undefined;
  if (!Array.isArray(routes)) return `routes ${str(routes)} is not a list`;
  const subnet = parseCIDR(node.subnet);
  for (const r of routes as unknown[]) {
    const { dest, nextHop } = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
    let net;
    try {
      net = parseCIDR(String(dest));
    } catch {
      return `route ${str(r)}: dest is not a network in CIDR form`;
    }
    if (net.family !== 4) return `route ${str(r)}: dest is not IPv4`;
    if (nextHop !== node.gateway) return `route ${str(r)}: nextHop is not the node subnet's gateway ${node.gateway}`;
    if (containsNet(subnet, net)) return `route ${str(r)}: dest lies inside the node subnet ${node.subnet}, which the pod reaches directly`;
  }
  return undefined;
}

function mtuProblem(mtu: unknown): string | undefined {
  if (mtu === undefined) return undefined;
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < MTU_MIN || mtu > MTU_MAX) return `mtu ${str(mtu)} is not an integer between ${MTU_MIN} and ${MTU_MAX}`;
  return undefined;
}

/** The port (iface-id) of another live pod that already carries one of the addresses, if any. */
export function addressHolder(addresses: string[], self: string, ports: PortAddresses[]): string | undefined {
  const mine = new Set(addresses.map(ipOf).filter((a): a is string => a !== undefined));
  for (const p of ports) {
    if (p.ifaceId === self) continue;
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
