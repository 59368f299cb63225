// master-init (ovn-kubernetes's name for the cluster set-up): the cluster router, the join switch linked to
// it, the cluster load balancer group and the management-IP and node-IP address sets. Idempotent: run on every start.
import { CLUSTER_ROUTER, JOIN_SWITCH, macFromIPv4 } from '../lib/ovn/names.js';
import { addressAt, formatCIDR, formatIP, withPrefix } from '../lib/ipnet/index.js';
import type { WatcherConfig } from './config.js';
import { Txn } from '../lib/ovn/txn.js';
import { commit, type NbClient } from '../lib/ovn/commit.js';
import { ensureRouter, ensureRouterPort } from '../lib/ovn/router.js';
import { ensureSwitch } from '../lib/ovn/switch.js';
import { createOrUpdatePort } from '../lib/ovn/lsp.js';
import { ensureLoadBalancerGroup } from '../lib/ovn/load-balancer.js';
import { ensureAddressSet } from '../lib/ovn/address-set.js';
import { ownerIds } from '../lib/ovn/names.js';
import { CLUSTER_LB_GROUP, NODE_IPS_ADDRESS_SET, clusterJoinPort, joinClusterPort } from '../lib/ovn/names.js';
import { MGMT_ADDRESS_SET } from '../lib/ovn/names.js';

export function masterInitOps(txn: Txn, config: WatcherConfig): void {
  const ids = ownerIds('cluster', CLUSTER_ROUTER);
  ensureRouter(txn, { name: CLUSTER_ROUTER, external_ids: ids });
  const joinGw = addressAt(config.joinCidr, 1);
  ensureSwitch(txn, {
    name: JOIN_SWITCH,
    other_config: { subnet: formatCIDR(config.joinCidr), exclude_ips: formatIP(joinGw) },
    external_ids: ownerIds('cluster', JOIN_SWITCH),
  });
  ensureRouterPort(txn, CLUSTER_ROUTER, {
    name: clusterJoinPort,
    mac: macFromIPv4(formatIP(joinGw)),
    networks: [withPrefix(joinGw, config.joinCidr.prefix)],
    external_ids: ownerIds('cluster', JOIN_SWITCH),
  });
  createOrUpdatePort(txn, JOIN_SWITCH, {
    name: joinClusterPort,
    type: 'router',
    addresses: ['router'],
    options: { 'router-port': clusterJoinPort },
    external_ids: ownerIds('cluster', JOIN_SWITCH),
  });
  ensureLoadBalancerGroup(txn, CLUSTER_LB_GROUP);
  // The node controller fills these (per-address mutations); here they only come to exist, contents kept.
  for (const set of [MGMT_ADDRESS_SET, NODE_IPS_ADDRESS_SET]) {
    const have = txn.cache.lookupAll('Address_Set', 'name', set)[0];
    ensureAddressSet(txn, set, have?.addresses ?? [], ownerIds('cluster', set));
  }
}

/** Runs master-init as one transaction; a second run writes nothing. */
export async function masterInit(nb: NbClient, config: WatcherConfig): Promise<number> {
  const txn = new Txn(nb.cache, 'master-init');
  masterInitOps(txn, config);
  const n = txn.ops.length;
  await commit(nb, txn);
  return n;
}

/** Tables the watcher monitors (everything its lib/ovn operations read). */
export const WATCHED_TABLES = [
  'Logical_Router', 'Logical_Router_Port', 'Logical_Switch', 'Logical_Switch_Port', 'Load_Balancer', 'Load_Balancer_Group',
  'Port_Group', 'ACL', 'Address_Set', 'Logical_Router_Static_Route', 'Logical_Router_Policy',
] as const;
