// Names of the cluster-wide OVN objects the watcher creates (node and pod names come from lib/names.ts).
// The join port names match gateway/names.ts: whichever component comes first creates them, the same way.
import { CLUSTER_ROUTER } from '../lib/names.js';

export const clusterJoinPort = `rtoj-${CLUSTER_ROUTER}`;
export const joinClusterPort = `jtor-${CLUSTER_ROUTER}`;
/** Load balancer group holding every service LB; attached to every node switch. */
export const CLUSTER_LB_GROUP = 'tessera_cluster_lbs';
export const serviceLoadBalancer = (namespace: string, name: string, proto: string): string => `tessera_svc_${namespace}/${name}_${proto}`;
/** Address set holding every node's InternalIPs of the cluster's family (kept by the node controller). */
export const NODE_IPS_ADDRESS_SET = 'tessera_node_ips';
