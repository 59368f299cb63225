// Names of the OVN objects Tessera owns. Every component derives names here, never inline.

export const CLUSTER_ROUTER = 'ovn_cluster_router';
export const JOIN_SWITCH = 'join';
export const INTEGRATION_BRIDGE = 'br-int';

/** Key set on every NB row Tessera creates, so reconcile can tell ours from others'. */
export const OWNER_KEY = 'tessera.io/owner';

export const nodeSwitch = (node: string): string => node;
export const nodeRouterPort = (node: string): string => `rtos-${node}`;
export const nodeSwitchRouterPort = (node: string): string => `stor-${node}`;
export const managementPort = (node: string): string => `k8s-${node}`;
export const podPort = (namespace: string, pod: string): string => `${namespace}_${pod}`;
export const gatewayRouter = (node: string): string => `GR_${node}`;
export const externalSwitch = (node: string): string => `ext_${node}`;

/** Deterministic MAC for an IPv4 address, as ovn-kubernetes does: 0a:58 + the four address bytes. */
export function macFromIPv4(ip: string): string {
  const parts = ip.split('.').map((p) => Number(p));
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return ['0a', '58', ...parts.map((p) => p.toString(16).padStart(2, '0'))].join(':');
}
