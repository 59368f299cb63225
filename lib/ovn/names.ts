// Every OVN object name Tessera uses and the external_ids that mark its rows. Components derive names and owner ids
// here, never inline, so a row one component writes is the row another reads. Names follow ovn-kubernetes (and
// Kube-OVN for the interconnection) so operators recognise them.

// --- object names -------------------------------------------------------------------------------------------
export const CLUSTER_ROUTER = 'ovn_cluster_router';
export const JOIN_SWITCH = 'join';
export const INTEGRATION_BRIDGE = 'br-int';

export const nodeSwitch = (node: string): string => node;
export const nodeRouterPort = (node: string): string => `rtos-${node}`;
export const nodeSwitchRouterPort = (node: string): string => `stor-${node}`;
export const managementPort = (node: string): string => `k8s-${node}`;
export const podPort = (namespace: string, pod: string): string => `${namespace}_${pod}`;

/** The cluster router's port on the join switch and its peer (written by the watcher's master-init only). */
export const clusterJoinPort = `rtoj-${CLUSTER_ROUTER}`;
export const joinClusterPort = `jtor-${CLUSTER_ROUTER}`;

export const gatewayRouter = (node: string): string => `GR_${node}`;
export const externalSwitch = (node: string): string => `ext_${node}`;
export const grJoinPort = (node: string): string => `rtoj-${gatewayRouter(node)}`;
export const joinGrPort = (node: string): string => `jtor-${gatewayRouter(node)}`;
export const grExternalPort = (node: string): string => `rtoe-${gatewayRouter(node)}`;
export const extGrPort = (node: string): string => `etor-${gatewayRouter(node)}`;
export const localnetPort = (bridge: string, node: string): string => `${bridge}_${node}`;

/** Load balancer group holding every service LB; attached to every node switch. */
export const CLUSTER_LB_GROUP = 'tessera_cluster_lbs';
export const serviceLoadBalancer = (namespace: string, name: string, proto: string): string => `tessera_svc_${namespace}/${name}_${proto}`;
/** Address set holding every node's InternalIPs of the cluster's family (kept by the node controller). */
export const NODE_IPS_ADDRESS_SET = 'tessera_node_ips';
/** Address set of every node's management IP (kept by the node controller; NetworkPolicy ingress allows it). */
export const MGMT_ADDRESS_SET = 'tessera_node_mgmt';

/** The interconnection's transit switch (created in IC-NB by the interconnect controller, mirrored into NB by ovn-ic). */
export const TS_NAME = 'ts';
/** Router port on the transit switch `ts` (or another one), as the Kube-OVN docs show it: `<az>-ts` (`<az>-<ts>`). */
export const tsRouterPort = (az: string, ts: string = TS_NAME): string => `${az}-${ts}`;
/** Switch port of type router on the transit switch: `ts-<az>` (`<ts>-<az>`). */
export const tsSwitchPort = (az: string, ts: string = TS_NAME): string => `${ts}-${az}`;
/** Gateway_Chassis row name for one gateway of the ts router port. */
export const tsGatewayChassisName = (az: string, chassis: string, ts: string = TS_NAME): string => `${tsRouterPort(az, ts)}-${chassis}`;

/** Deterministic MAC for an IPv4 address, as ovn-kubernetes does: 0a:58 + the four address bytes. */
export function macFromIPv4(ip: string): string {
  const parts = ip.split('.').map((p) => Number(p));
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return ['0a', '58', ...parts.map((p) => p.toString(16).padStart(2, '0'))].join(':');
}

// --- owner ids ----------------------------------------------------------------------------------------------
/** Key set on every NB row Tessera creates, so reconcile can tell ours from others'. Its value names the writer. */
export const OWNER_KEY = 'tessera.io/owner';
export const WATCHER_OWNER = 'tessera-watcher';
export const GATEWAY_OWNER = 'tessera-gateway';
export const IC_OWNER = 'tessera-interconnect';

/** Watcher rows: the Kubernetes kind a row was made for, and namespace/name (or name) of that object. */
export const KIND_KEY = 'tessera.io/kind';
export const OBJECT_KEY = 'tessera.io/object';
/** A node switch's subnet, recorded on the switch (the node controller's IPAM rebuild reads it back). */
export const SUBNET_KEY = 'tessera.io/subnet';

export type OwnerKind = 'cluster' | 'node' | 'pod' | 'service' | 'network-policy';

/** external_ids of a watcher row made for `kind` `object`. */
export function ownerIds(kind: OwnerKind, object: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [OWNER_KEY]: WATCHER_OWNER, [KIND_KEY]: kind, [OBJECT_KEY]: object, ...extra };
}

/** Whether the watcher wrote the row. */
export function isOurs(ids: Record<string, string> | undefined): boolean {
  return ids?.[OWNER_KEY] === WATCHER_OWNER;
}

/** The object a watcher row of `kind` was made for, or undefined when the row is not such a row. */
export function ownedBy(ids: Record<string, string> | undefined, kind: OwnerKind): string | undefined {
  return isOurs(ids) && ids?.[KIND_KEY] === kind ? ids[OBJECT_KEY] : undefined;
}

/** Gateway rows: which gateway node a row belongs to (every row the gateway creates carries it). */
export const GATEWAY_NODE_KEY = 'tessera.io/gateway-node';
/** The join address allocated to GR_<node>, recorded on the router itself. */
export const JOIN_IP_KEY = 'tessera.io/join-ip';
/** What a gateway row is for, so reconcile can diff routes and NATs that have no name. */
export const ROLE_KEY = 'tessera.io/role';

/** external_ids of a row the gateway of `node` writes, with the role it plays. */
export function gatewayIds(node: string, role?: string): Record<string, string> {
  return { [OWNER_KEY]: GATEWAY_OWNER, [GATEWAY_NODE_KEY]: node, ...(role ? { [ROLE_KEY]: role } : {}) };
}

/** Whether the gateway of `node` wrote the row. */
export function isGatewayOurs(ids: Record<string, string> | undefined, node: string): boolean {
  return ids?.[OWNER_KEY] === GATEWAY_OWNER && ids[GATEWAY_NODE_KEY] === node;
}

/** external_ids of a row the interconnect controller writes. */
export const icIds = (): Record<string, string> => ({ [OWNER_KEY]: IC_OWNER });

/** NB_Global external_ids of the interconnection: the applied config (fingerprint), its ConfigMap's uid, sticky overlaps. */
export const APPLIED_KEY = 'tessera.io/ic-config';
export const APPLIED_UID_KEY = 'tessera.io/ic-config-uid';
export const OVERLAPS_KEY = 'tessera.io/ic-overlaps';
/** ovn-ic marks the static routes it learned with this external_ids key. */
export const LEARNED_ROUTE_KEY = 'ic-learned-route';
