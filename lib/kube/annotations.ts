// Annotations the watcher writes and the agent/CNI read. One definition, so both sides agree.

/** On a Node: the subnet the watcher allocated to it, e.g. "10.244.1.0/24". */
export const NODE_SUBNET_ANNOTATION = 'tessera.io/node-subnet';

/** On a Pod: its network, keyed by network name ("default" for the cluster network), JSON. */
export const POD_NETWORKS_ANNOTATION = 'tessera.io/pod-networks';
export const DEFAULT_NETWORK = 'default';

/** Requests Kube-OVN users already write on pods; honoured by the watcher. */
export const KUBEOVN_IP_ANNOTATION = 'ovn.kubernetes.io/ip_address';
export const KUBEOVN_MAC_ANNOTATION = 'ovn.kubernetes.io/mac_address';
export const KUBEOVN_SWITCH_ANNOTATION = 'ovn.kubernetes.io/logical_switch';

export interface PodRoute {
  /** Destination CIDR. */
  dest: string;
  nextHop: string;
}

export interface PodNetwork {
  /** CIDR notation: "10.244.1.5/24". */
  ip_addresses: string[];
  mac_address: string;
  gateway_ips: string[];
  routes: PodRoute[];
  logical_switch: string;
  /** Pod interface MTU; absent means the node default. */
  mtu?: number;
}

export type PodNetworks = Record<string, PodNetwork>;

export function parsePodNetworks(raw: string | undefined): PodNetworks | undefined {
  if (!raw) return undefined;
  const v = JSON.parse(raw) as unknown;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${POD_NETWORKS_ANNOTATION} is not a JSON object`);
  return v as PodNetworks;
}
