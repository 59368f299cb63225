// NB operations for Vpcs and Subnets, in the nbops style (append to a Txn; commit.ts sends). Routes and
// policies are diffed by identity and only the Vpc's own rows (owner kind 'vpc') are touched, so the
// gateway's and OVN-IC's rows on ovn_cluster_router stay.
import { type Txn, byUuid } from '../nbops/txn.js';
import { ensureRouter, ensureRouterPort, deleteRouterPort } from '../nbops/router.js';
import { ensureSwitch, ensureSwitchAcls, deleteSwitch } from '../nbops/switch.js';
import { createOrUpdatePort } from '../nbops/lsp.js';
import { attachGroup } from '../nbops/load-balancer.js';
import type { PolicyRow, RouteRow, SubnetRows, VpcRows } from './translate.js';
import { vpcOwnedBy } from './names.js';

const routeKey = (r: { ip_prefix: string; nexthop: string; policy?: string }): string => `${r.policy ?? 'dst-ip'} ${r.ip_prefix} ${r.nexthop}`;
const policyKey = (p: { priority: number; match: string; action: string; nexthops: string[] }): string => `${p.priority} ${p.action} ${p.nexthops.join(',')} ${p.match}`;

function routerRow(txn: Txn, name: string) {
  return txn.cache.lookupAll('Logical_Router', 'name', name)[0];
}

/** Converges the Vpc's router (custom Vpcs), its static routes and its policies. */
export function ensureVpc(txn: Txn, vpc: string, rows: VpcRows): void {
  const ref = rows.routerSpec ? ensureRouter(txn, rows.routerSpec) : routerRow(txn, rows.router)?._uuid;
  if (!ref) throw new Error(`router ${rows.router} does not exist yet`);
  const have = typeof ref === 'string' ? routerRow(txn, rows.router) : undefined;
  const mine = <T extends { external_ids: Record<string, string> }>(t: 'Logical_Router_Static_Route' | 'Logical_Router_Policy', uuids: string[]) =>
    uuids.map((u) => txn.cache.get(t, u) as T | undefined).filter((r): r is T & { _uuid: string } => !!r && vpcOwnedBy(r.external_ids, 'vpc') === vpc);

  const wantRoutes = new Map(rows.routes.map((r) => [routeKey(r), r]));
  const dropRoutes: string[] = [];
  for (const r of mine<{ ip_prefix: string; nexthop: string; policy?: string; external_ids: Record<string, string>; _uuid: string }>('Logical_Router_Static_Route', have?.static_routes ?? [])) {
    if (!wantRoutes.delete(routeKey(r))) dropRoutes.push(r._uuid);
  }
  const addRoutes = [...wantRoutes.values()].map((r: RouteRow, i) => txn.insert('Logical_Router_Static_Route', `${vpc}/route/${i}`, { ...r }));
  if (dropRoutes.length) txn.mutate('Logical_Router', byUuid(ref), [['static_routes', 'delete', dropRoutes]]);
  if (addRoutes.length) txn.mutate('Logical_Router', byUuid(ref), [['static_routes', 'insert', addRoutes]]);

  const wantPolicies = new Map(rows.policies.map((p) => [policyKey(p), p]));
  const dropPolicies: string[] = [];
  for (const p of mine<{ priority: number; match: string; action: string; nexthops: string[]; external_ids: Record<string, string>; _uuid: string }>('Logical_Router_Policy', have?.policies ?? [])) {
    if (!wantPolicies.delete(policyKey(p))) dropPolicies.push(p._uuid);
  }
  const addPolicies = [...wantPolicies.values()].map((p: PolicyRow, i) => txn.insert('Logical_Router_Policy', `${vpc}/policy/${i}`, { ...p }));
  if (dropPolicies.length) txn.mutate('Logical_Router', byUuid(ref), [['policies', 'delete', dropPolicies]]);
  if (addPolicies.length) txn.mutate('Logical_Router', byUuid(ref), [['policies', 'insert', addPolicies]]);
}

/** Removes what a Vpc owned: a custom Vpc's router (its ports, routes and policies go with it), or on the default one only its routes and policies. */
export function deleteVpc(txn: Txn, vpc: string, router: string, custom: boolean): void {
  const have = routerRow(txn, router);
  if (!have) return;
  if (custom && vpcOwnedBy(have.external_ids, 'vpc') === vpc) {
    txn.delete('Logical_Router', byUuid(have._uuid));
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
