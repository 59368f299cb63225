// NB operations on load balancers and the load balancer group that attaches them to every node switch.
import type { NamedUuid } from '../ovsdb/notation.js';
import { type Txn, type NbRow, byUuid, byName, sameMap, sameSet } from './txn.js';

export interface LoadBalancerSpec {
  name: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  vips: Record<string, string>;
  options: Record<string, string>;
  selection_fields: NbRow<'Load_Balancer'>['selection_fields'];
  external_ids: Record<string, string>;
}

export function findLoadBalancer(txn: Txn, name: string): NbRow<'Load_Balancer'> | undefined {
  return txn.cache.lookupAll('Load_Balancer', 'name', name)[0];
}

/** Creates the LB or updates it in place (same row: VIP changes never recreate it). */
export function ensureLoadBalancer(txn: Txn, spec: LoadBalancerSpec): string | NamedUuid {
  const pending = txn.pendingRef('Load_Balancer', spec.name);
  if (pending) return pending;
  const row = { name: spec.name, protocol: spec.protocol, vips: spec.vips, options: spec.options, selection_fields: spec.selection_fields, external_ids: spec.external_ids };
  const have = findLoadBalancer(txn, spec.name);
  if (!have) {
    txn.assertAbsent('Load_Balancer', byName(spec.name));
    return txn.insert('Load_Balancer', spec.name, row);
  }
  if (
    have.protocol !== spec.protocol || !sameMap(have.vips, spec.vips) || !sameMap(have.options, spec.options) ||
    !sameSet(have.selection_fields, spec.selection_fields) || !sameMap(have.external_ids, spec.external_ids)
  ) {
    txn.update('Load_Balancer', byUuid(have._uuid), row);
  }
  return have._uuid;
}

/** Deletes the LB; weak references from groups, switches and routers drop with it. */
export function deleteLoadBalancer(txn: Txn, name: string): void {
  for (const lb of txn.cache.lookupAll('Load_Balancer', 'name', name)) txn.delete('Load_Balancer', byUuid(lb._uuid));
}

/** Load_Balancer_Group has no external_ids: the name (a lib/ovn/names.ts constant) marks it as ours. */
export function ensureLoadBalancerGroup(txn: Txn, name: string): string | NamedUuid {
  const pending = txn.pendingRef('Load_Balancer_Group', name);
  if (pending) return pending;
  const have = txn.cache.lookupAll('Load_Balancer_Group', 'name', name)[0];
  if (!have) return txn.insert('Load_Balancer_Group', name, { name, load_balancer: [] });
  return have._uuid;
}

export function groupAddLoadBalancer(txn: Txn, group: string, lb: string | NamedUuid): void {
  const g = txn.pendingRef('Load_Balancer_Group', group) ?? txn.cache.lookupAll('Load_Balancer_Group', 'name', group)[0]?._uuid;
  if (!g) throw new Error(`load balancer group ${group} does not exist`);
  const row = typeof g === 'string' ? txn.cache.get('Load_Balancer_Group', g) : undefined;
  if (typeof lb === 'string' && row?.load_balancer.includes(lb)) return;
  txn.mutate('Load_Balancer_Group', byUuid(g), [['load_balancer', 'insert', [lb]]]);
}

/** Attaches the group to a switch or router (by uuid or batch ref) unless already attached. */
export function attachGroup(txn: Txn, table: 'Logical_Switch' | 'Logical_Router', target: string | NamedUuid, group: string): void {
  const g = txn.pendingRef('Load_Balancer_Group', group) ?? txn.cache.lookupAll('Load_Balancer_Group', 'name', group)[0]?._uuid;
  if (!g) throw new Error(`load balancer group ${group} does not exist`);
  if (typeof target === 'string' && typeof g === 'string') {
    const row = txn.cache.get(table, target);
    if (row?.load_balancer_group.includes(g)) return;
  }
  txn.mutate(table, byUuid(target), [['load_balancer_group', 'insert', [g]]]);
}

/** Attaches the LB (uuid or batch ref) to a switch or router row unless already attached. */
export function attachLoadBalancer(txn: Txn, table: 'Logical_Switch' | 'Logical_Router', target: NbRow<'Logical_Switch'> | NbRow<'Logical_Router'>, lb: string | NamedUuid): void {
  if (typeof lb === 'string' && target.load_balancer.includes(lb)) return;
  txn.mutate(table, byUuid(target._uuid), [['load_balancer', 'insert', [lb]]]);
}

/** Takes the LB out of a group if it is in it. */
export function groupRemoveLoadBalancer(txn: Txn, group: string, lb: string): void {
  const g = txn.cache.lookupAll('Load_Balancer_Group', 'name', group)[0];
  if (g?.load_balancer.includes(lb)) txn.mutate('Load_Balancer_Group', byUuid(g._uuid), [['load_balancer', 'delete', [lb]]]);
}

/** Detaches the LB from a switch (a one-column mutation: the switch may be another writer's row). */
export function detachLoadBalancer(txn: Txn, target: NbRow<'Logical_Switch'>, lb: string): void {
  if (target.load_balancer.includes(lb)) txn.mutate('Logical_Switch', byUuid(target._uuid), [['load_balancer', 'delete', [lb]]]);
}
