// Annotations the watcher and the agent exchange. One definition, so both sides agree.

/** On a Node: the subnet the watcher allocated to it, e.g. "10.244.1.0/24". */
export const NODE_SUBNET_ANNOTATION = 'tessera.io/node-subnet';

/**
 * On a Node: the MAC of its management port k8s-<node>, written by the node's agent, e.g. "0a:58:0a:f4:01:02". The
 * watcher puts it into the port's NB addresses after validating it: whoever runs on the node can write it.
 */
export const NODE_MGMT_MAC_ANNOTATION = 'tessera.io/node-mgmt-port-mac';

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
  /** Nested pods: the VLAN id (1-4094) on the VM's NIC; the agent in nested mode requires it. */
  vlan?: number;
  /** The OVS external_ids:iface-id of the pod's br-int port when it is not the usual <ns>_<pod> (a Neutron port id). */
  iface_id?: string;
}

export type PodNetworks = Record<string, PodNetwork>;

/**
 * On a Pod: the logical port name (or Neutron port id) that OVN/Neutron reports up, written by the watcher. A nested
 * agent, which sees no OVS and no NB, answers ADD once this equals the port it wired.
 */
export const POD_PORT_UP_ANNOTATION = 'tessera.io/port-up';

/**
 * On a Node: the logical switch port (or Neutron port id) of the VM's NIC when the node is a VM running nested pods.
 * Written by the operator; the watcher validates it before it attaches any child port to it.
 */
export const NODE_NESTED_PARENT_ANNOTATION = 'tessera.io/nested-parent-port';

/** VLAN ids a nested pod may carry (802.1Q: 0 and 4095 are reserved). */
export const VLAN_ID_MIN = 1;
export const VLAN_ID_MAX = 4094;
export const isVlanId = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= VLAN_ID_MIN && v <= VLAN_ID_MAX;

export function parsePodNetworks(raw: string | undefined): PodNetworks | undefined {
  if (!raw) return undefined;
  const v = JSON.parse(raw) as unknown;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${POD_NETWORKS_ANNOTATION} is not a JSON object`);
  return v as PodNetworks;
}

/**
 * Why the watcher cannot give a pod its network (e.g. no free address in the node's subnet), set by the watcher
 * and removed once the pod is allocated. The agent quotes it when ADD times out waiting for the annotation.
 */
export const POD_NETWORK_ERROR_ANNOTATION = 'tessera.io/pod-network-error';
/** Longest pod-network-error the watcher writes and the agent quotes. */
export const POD_NETWORK_ERROR_MAX = 256;

/**
 * The pod-network-error text fit to quote in a CNI error, or undefined. Anyone who can edit the pod can write the
 * annotation, so it is taken only when short and free of control characters, and always shown quoted.
 */
export function podNetworkError(annotations: Record<string, string> | undefined): string | undefined {
  const v = annotations?.[POD_NETWORK_ERROR_ANNOTATION];
  // eslint-disable-next-line no-control-regex
  if (!v || v.length > POD_NETWORK_ERROR_MAX || /[\u0000-\u001f\u007f-\u009f]/.test(v)) return undefined;
  return v;
}

/** A message cut to what the pod-network-error annotation may carry. */
export function shortPodNetworkError(msg: string): string {
  const flat = msg.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  return flat.length <= POD_NETWORK_ERROR_MAX ? flat : `${flat.slice(0, POD_NETWORK_ERROR_MAX - 1)}…`;
}
