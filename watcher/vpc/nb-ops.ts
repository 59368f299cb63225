// NB operations for Vpcs and Subnets, composed of lib/ovn's (append to a Txn; lib/ovn/commit.ts sends). Routes and
// policies converge through lib/ovn/router-children.ts, claiming only the Vpc's own rows (owner kind 'vpc'), so the
// gateway's and OVN-IC's rows on ovn_cluster_router stay.
import type { Txn } from '../../lib/ovn/txn.js';
import { ensureRouter, ensureRouterPort, deleteRouter, deleteRouterPort, routerRef } from '../../lib/ovn/router.js';
import { convergeRouterPolicies, convergeStaticRoutes } from '../../lib/ovn/router-children.js';
import { ensureSwitch, ensureSwitchAcls, deleteSwitch } from '../../lib/ovn/switch.js';
import { createOrUpdatePort } from '../../lib/ovn/lsp.js';
import { attachGroup } from '../../lib/ovn/load-balancer.js';
import type { SubnetRows, VpcRows } from './translate.js';
import { vpcOwnedBy } from './names.js';

function routerRow(txn: Txn, name: string) {
  return txn.cache.lookupAll('Logical_Router', 'name', name)[0];
}

/** Converges the Vpc's router (custom Vpcs), its static routes and its policies. */
export function ensureVpc(txn: Txn, vpc: string, rows: VpcRows): void {
  const ref = rows.routerSpec ? ensureRouter(txn, rows.routerSpec) : routerRef(txn, rows.router);
  if (!ref) throw new Error(`router ${rows.router} does not exist yet`);
  const have = typeof ref === 'string' ? routerRow(txn, rows.router) : undefined;
  const mine = (ids: Record<string, string>): boolean => vpcOwnedBy(ids, 'vpc') === vpc;
  convergeStaticRoutes(txn, ref, have?.static_routes ?? [], rows.routes, mine);
  convergeRouterPolicies(txn, ref, have?.policies ?? [], rows.policies, mine);
}

/** Removes what a Vpc owned: a custom Vpc's router (its ports, routes and policies go with it), or on the default one only its routes and policies. */
export function deleteVpc(txn: Txn, vpc: string, router: string, custom: boolean): void {
  const have = routerRow(txn, router);
  if (!have) return;
  if (custom && vpcOwnedBy(have.external_ids, 'vpc') === vpc) {
    deleteRouter(txn, router);
    return;
  }
  ensureVpc(txn, vpc, { router, routes: [], policies: [] });
}

/** Converges the Subnet's switch, its ACLs and its link to the Vpc's router. */
export function ensureSubnet(txn: Txn, subnet: string, rows: SubnetRows, lbGroup?: string): void {
  const ls = ensureSwitch(txn, rows.switchSpec);
  if (lbGroup) attachGroup(txn, 'Logical_Switch', ls, lbGroup);
  ensureSwitchAcls(txn, rows.switchSpec.name, ls, rows.acls, (ids) => vpcOwnedBy(ids, 'subnet') === subnet);
  ensureRouterPort(txn, rows.router, rows.routerPort);
  createOrUpdatePort(txn, rows.switchSpec.name, rows.switchPort);
}

/** Removes the Subnet's switch (its ports and ACL references go with it) and its router port. */
export function deleteSubnet(txn: Txn, subnet: string): void {
  for (const ls of txn.cache.lookupAll('Logical_Switch', 'name', subnet)) {
    if (vpcOwnedBy(ls.external_ids, 'subnet') === subnet) deleteSwitch(txn, ls.name);
  }
  for (const lrp of txn.cache.filter('Logical_Router_Port', (p) => vpcOwnedBy(p.external_ids, 'subnet') === subnet)) deleteRouterPort(txn, lrp.name);
}
