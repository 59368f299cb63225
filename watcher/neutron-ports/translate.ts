// Pure pieces of the Neutron pod-port mode: the tags, POST marks and name that make a port Tessera's for one pod, the
// tessera.io/pod-networks entry a Neutron port becomes, and the choice of a free VLAN id on a trunk.
import { formatIP, parseIP } from '../../lib/ipnet/index.js';
import { VLAN_ID_MAX, VLAN_ID_MIN, type PodNetwork } from '../../lib/kube/annotations.js';
import { POD_PORT_DEVICE_OWNER, type NeutronNetwork, type NeutronPort, type NeutronSubnet } from '../../lib/neutron/types.js';

export const TAG_TESSERA = 'tessera';
export const clusterTag = (cluster: string): string => `tessera-cluster:${cluster}`;
export const podTag = (uid: string): string => `tessera-pod:${uid}`;

/** The tags a pod's port carries: Tessera's, the cluster's and the pod uid's (what restart GC goes by). */
export const portTags = (cluster: string, uid: string): string[] => [TAG_TESSERA, clusterTag(cluster), podTag(uid)];

/** The description of a pod port: its cluster and pod uid (exact-match filterable, unlike a prefix). */
export const portDescription = (cluster: string, uid: string): string => `${clusterTag(cluster)} ${podTag(uid)}`;
const DESCRIPTION_RE = /^tessera-cluster:(\S+) tessera-pod:(\S+)$/;

/**
 * What a pod port's POST itself stores (Neutron ignores `tags` there), so a port whose tags never went on (the
 * watcher stopped between the POST and the tag PUT, or the POST's answer was lost) is still found and claimed.
 * Not device_id = the pod uid here: Neutron refuses a port with a device_id as a subport (a baremetal port gets it
 * from podPortOwner, for the agent's check).
 */
export const portOrigin = (cluster: string, uid: string): { device_owner: string; description: string } =>
  ({ device_owner: POD_PORT_DEVICE_OWNER, description: portDescription(cluster, uid) });

type PortMarks = Partial<Pick<NeutronPort, 'tags' | 'device_owner' | 'description'>>;

/** A port with no tags at all: only the POST's own marks (portOrigin) can say whose it is. */
export const isUntagged = (port: PortMarks): boolean => (port.tags ?? []).length === 0;

/**
 * The pod uid a port of this cluster was made for: from its tags, or, on an untagged port, from both marks its POST
 * stored (portOrigin); undefined for anyone else's port.
 */
export function podUidOf(port: PortMarks, cluster: string): string | undefined {
  const tags = port.tags ?? [];
  if (isUntagged(port)) {
    const m = port.device_owner === POD_PORT_DEVICE_OWNER ? DESCRIPTION_RE.exec(port.description ?? '') : null;
    return m?.[1] === cluster ? m[2] : undefined;
  }
  if (!tags.includes(TAG_TESSERA) || !tags.includes(clusterTag(cluster))) return undefined;
  return tags.find((t) => t.startsWith('tessera-pod:'))?.slice('tessera-pod:'.length) || undefined;
}

/** The ports of several listings, each once, tagged ones first (an untagged one is the extra to drop). */
export function mergePorts(lists: NeutronPort[][]): NeutronPort[] {
  const byId = new Map(lists.flat().map((p) => [p.id, p]));
  return [...byId.values()].sort((a, b) => Number(isUntagged(a)) - Number(isUntagged(b)));
}

/** A baremetal pod's port names its pod where the node's agent can read it (the SB Port_Binding), unlike tags. */
export const podPortOwner = (uid: string): { device_owner: string; device_id: string } => ({ device_owner: POD_PORT_DEVICE_OWNER, device_id: uid });

/** A human name for `openstack port list`: namespace/pod (Neutron allows 255 characters). */
export const portName = (namespace: string, pod: string): string => `${namespace}/${pod}`.slice(0, 255);

/** Layout-specific part of the annotation: the VLAN on the VM's NIC (nested), or the iface-id on br-int (baremetal). */
export type Attachment = { kind: 'nested'; vlan: number } | { kind: 'baremetal' };

/** Neutron holds a working binding for the port: neither failed (no chassis of that host) nor not yet tried. */
export const bindingWorks = (port: Pick<NeutronPort, 'binding:vif_type'>): boolean =>
  port['binding:vif_type'] !== 'binding_failed' && port['binding:vif_type'] !== 'unbound';

export class PortTranslationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PortTranslationError';
  }
}

/** The pod-networks entry for a Neutron port: address and routes from its subnet, MAC from the port, MTU from the network. */
export function podNetworkFromPort(port: NeutronPort, subnet: NeutronSubnet, network: Pick<NeutronNetwork, 'mtu'> | undefined, at: Attachment): PodNetwork {
  const fixed = port.fixed_ips.find((f) => f.subnet_id === subnet.id);
  if (!fixed) throw new PortTranslationError(`Neutron port ${port.id} has no address on subnet ${subnet.id}`);
  const prefix = Number(subnet.cidr.split('/')[1]);
  if (subnet.ip_version !== 4 || !Number.isInteger(prefix) || parseIP(fixed.ip_address).family !== 4) {
    throw new PortTranslationError(`subnet ${subnet.id} (${subnet.cidr}) is not an IPv4 subnet`);
  }
  const net: PodNetwork = {
    ip_addresses: [`${formatIP(parseIP(fixed.ip_address))}/${prefix}`],
    mac_address: port.mac_address.toLowerCase(),
    gateway_ips: subnet.gateway_ip ? [subnet.gateway_ip] : [],
    routes: (subnet.host_routes ?? []).map((r) => ({ dest: r.destination, nextHop: r.nexthop })),
    logical_switch: `neutron-${port.network_id}`,
  };
  if (network?.mtu) net.mtu = network.mtu;
  // iface_id names the OVN port (Neutron's id): a baremetal pod's br-int port, a nested pod's subport (its port-up).
  net.iface_id = port.id;
  if (at.kind === 'nested') net.vlan = at.vlan;
  return net;
}

export class VlanExhaustedError extends Error {
  constructor(readonly trunkId: string) {
    super(`trunk ${trunkId} has no free VLAN id (${VLAN_ID_MIN}-${VLAN_ID_MAX} all in use)`);
    this.name = 'VlanExhaustedError';
  }
}

/**
 * The lowest VLAN id of the trunk that neither a subport Neutron lists (the truth after a restart) nor an add in
 * flight holds. Throws VlanExhaustedError when all 4094 are taken.
 */
export function freeVlan(trunkId: string, used: Iterable<number>, inFlight: Iterable<number> = []): number {
  const taken = new Set<number>([...used, ...inFlight]);
  for (let v = VLAN_ID_MIN; v <= VLAN_ID_MAX; v++) if (!taken.has(v)) return v;
  throw new VlanExhaustedError(trunkId);
}
