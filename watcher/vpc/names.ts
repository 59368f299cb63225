// OVN names and owner ids of the rows made for Vpcs and Subnets. A custom Vpc's router is named after the Vpc
// (a DNS name, so it can never be ovn_cluster_router or a GR_<node>); a Subnet's switch after the Subnet, as
// Kube-OVN does, so `ovn.kubernetes.io/logical_switch: <subnet>` names both.
import { CLUSTER_ROUTER, OWNER_KEY, WATCHER_OWNER, KIND_KEY, OBJECT_KEY, isOurs } from '../../lib/ovn/names.js';
import { DEFAULT_VPC } from '../../lib/kube/kubeovn.js';

export type VpcOwnerKind = 'vpc' | 'subnet';

export const vpcRouter = (vpc: string): string => (vpc === DEFAULT_VPC ? CLUSTER_ROUTER : vpc);
export const subnetSwitch = (subnet: string): string => subnet;
/** Neutron names its Logical_Routers neutron-<router uuid>. */
export const NEUTRON_ROUTER_PREFIX = 'neutron-';
/**
 * Router port `<vpc>-<subnet>` and its switch peer `<subnet>-<vpc>`, as Kube-OVN names them. On a Neutron router
 * (Vpc neutron-<uuid>) the router port is `lrp-<vpc>-<subnet>`: Neutron's DB sync in repair mode deletes router
 * ports it does not know by the name `lrp-` + (name without `lrp-`), and a port not named so aborts its whole
 * router transaction (RuntimeError) and the rest of its repair. So named, the port is deleted, Tessera's drift
 * repair restores it, and Neutron's repair completes.
 */
export const subnetRouterPort = (vpc: string, subnet: string): string => `${vpc.startsWith(NEUTRON_ROUTER_PREFIX) ? 'lrp-' : ''}${vpc}-${subnet}`;

export const subnetSwitchPort = (vpc: string, subnet: string): string => `${subnet}-${vpc}`;

export function vpcOwnerIds(kind: VpcOwnerKind, object: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [OWNER_KEY]: WATCHER_OWNER, [KIND_KEY]: kind, [OBJECT_KEY]: object, ...extra };
}

export function vpcOwnedBy(ids: Record<string, string> | undefined, kind: VpcOwnerKind): string | undefined {
  return isOurs(ids) && ids?.[KIND_KEY] === kind ? ids[OBJECT_KEY] : undefined;
}
