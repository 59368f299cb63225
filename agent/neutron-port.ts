// Validation of a pod network that names a Neutron port as iface_id (Kuryr's baremetal layout, --neutron-ports).
// The address comes from Neutron's subnet, which the agent does not see, so it is checked for form and consistency
// (one IPv4 host address, gateway and next hops inside its prefix); Neutron's OVN port_security pins MAC and IP on
// the switch port anyway. The iface_id decides which switch port this node's ovn-controller claims, and anyone who
// may patch the pod can write it: it must be a Neutron port id (UUID), the agent must run with --neutron-ports,
// and no other pod's interface on this node may carry it. An agent with --neutron-ports wires nothing else.
import { contains, firstAddress, formatIP, lastAddress, parseCIDR, parseIP, parseInterfaceAddress } from '../lib/ipnet/index.js';
import type { PodNetwork } from '../lib/kube/annotations.js';
import { macProblem, mtuProblem } from './annotation-check.js';

/**
 * A pod network without iface_id on a --neutron-ports node. That node has no node subnet nor management port, and the
 * watcher's Neutron mode gives every pod a Neutron port: anything else is a forged or foreign annotation.
 */
export const NOT_A_NEUTRON_PORT = 'has no iface_id: this agent (--neutron-ports) wires only pods on Neutron ports, which the watcher gives with --neutron-secret';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const str = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** The first problem with a Neutron-port pod network, or undefined; `holder` names another pod using the iface-id. */
export function neutronNetworkProblem(n: PodNetwork, allowed: boolean, holder: (ifaceId: string) => string | undefined): string | undefined {
  if (!allowed) return `iface_id ${str(n.iface_id).slice(0, 80)} is set, but this agent does not take Neutron ports (--neutron-ports)`;
  const id = neutronPortIdProblem(n);
  if (id) return id;
  if (n.vlan !== undefined) return 'iface_id and vlan together: a nested pod has no br-int port';
  const other = holder(n.iface_id!);
  if (other) return `iface_id ${n.iface_id} is already wired for pod port ${other} on this node`;
  return neutronAddressProblem(n);
}

/** True when the network names a Neutron network as its switch (the watcher's Neutron mode made it). */
export const isNeutronNetwork = (n: PodNetwork): boolean => typeof n.logical_switch === 'string' && n.logical_switch.startsWith('neutron-');

/** iface_id must be a Neutron port id and logical_switch a Neutron network: they name the OVN port the pod gets. */
export function neutronPortIdProblem(n: PodNetwork): string | undefined {
  if (typeof n.iface_id !== 'string' || !UUID_RE.test(n.iface_id)) return `iface_id ${str(n.iface_id).slice(0, 80)} is not a Neutron port id`;
  if (typeof n.logical_switch !== 'string' || !/^neutron-[0-9a-f-]{36}$/.test(n.logical_switch)) return `logical_switch ${str(n.logical_switch).slice(0, 80)} is not a Neutron network`;
  return undefined;
}

/** Form and consistency of a Neutron-made address, gateway, routes, MAC and MTU (Neutron's subnet is not visible here). */
export function neutronAddressProblem(n: PodNetwork): string | undefined {
  if (!Array.isArray(n.ip_addresses) || n.ip_addresses.length !== 1) return 'ip_addresses must hold exactly one address';
  let addr;
  try {
    addr = parseInterfaceAddress(String(n.ip_addresses[0]));
  } catch {
    return `ip address ${str(n.ip_addresses[0])} is not in CIDR form`;
  }
  const net = addr.network;
  if (addr.address.family !== 4) return `ip address ${str(n.ip_addresses[0])} is not IPv4`;
  if (net.prefix < 31 && [formatIP(firstAddress(net)), formatIP(lastAddress(net))].includes(formatIP(addr.address))) {
    return `ip address ${str(n.ip_addresses[0])} is the network or broadcast address`;
  }
  const inside = (ip: unknown): boolean => {
    try {
      return contains(net, parseIP(String(ip))) && formatIP(parseIP(String(ip))) !== formatIP(addr.address);
    } catch {
      return false;
    }
  };
  if (!Array.isArray(n.gateway_ips) || n.gateway_ips.length > 1) return 'gateway_ips must hold at most one address';
  const gw = n.gateway_ips[0];
  if (gw !== undefined && !inside(gw)) return `gateway ${str(gw)} is not another address of ${str(n.ip_addresses[0])}'s subnet`;
  if (n.routes !== undefined && !Array.isArray(n.routes)) return `routes ${str(n.routes).slice(0, 80)} is not a list`;
  for (const r of n.routes ?? []) {
    try {
      if (parseCIDR(String((r as { dest?: unknown }).dest)).family !== 4) return `route ${str(r)}: dest is not IPv4`;
    } catch {
      return `route ${str(r)}: dest is not a network in CIDR form`;
    }
    if (!inside((r as { nextHop?: unknown }).nextHop)) return `route ${str(r)}: nextHop is not on the pod's subnet`;
  }
  return macProblem(n.mac_address) ?? mtuProblem(n.mtu);
}
