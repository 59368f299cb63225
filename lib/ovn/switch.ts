// NB operations on logical switches.
import type { NamedUuid } from '../ovsdb/notation.js';
import { type Txn, type NbRow, byUuid, byName, sameMap } from './txn.js';
import { type AclSpec, convergeAcls } from './acl.js';

export interface SwitchSpec {
  name: string;
  other_config: Record<string, string>;
  external_ids: Record<string, string>;
}

export function findSwitch(txn: Txn, name: string): NbRow<'Logical_Switch'> | undefined {
  return txn.cache.lookupAll('Logical_Switch', 'name', name)[0];
}

/** Creates the switch if absent (atomically: Logical_Switch has no name index), fixes drifted columns. */
export function ensureSwitch(txn: Txn, spec: SwitchSpec): string | NamedUuid {
  const pending = txn.pendingRef('Logical_Switch', spec.name);
  if (pending) return pending;
  const have = findSwitch(txn, spec.name);
  if (!have) {
    txn.assertAbsent('Logical_Switch', byName(spec.name));
    return txn.insert('Logical_Switch', spec.name, { name: spec.name, other_config: spec.other_config, external_ids: spec.external_ids });
  }
  if (!sameMap(have.other_config, spec.other_config) || !sameMap(have.external_ids, spec.external_ids)) {
    txn.update('Logical_Switch', byUuid(have._uuid), { other_config: spec.other_config, external_ids: spec.external_ids });
  }
  return have._uuid;
}

/** Deletes the switch; its ports go with it (strong references from a non-root table). */
export function deleteSwitch(txn: Txn, name: string): void {
  for (const ls of txn.cache.lookupAll('Logical_Switch', 'name', name)) txn.delete('Logical_Switch', byUuid(ls._uuid));
}

/**
 * Gives up a switch that holds another writer's ports, instead of deleting it (which would delete those ports):
 * drops from it the ports and ACLs `mine` claims and the external_ids `keys` that mark it as ours, and leaves the
 * switch and everything else in it as it is.
 */
export function disownSwitch(txn: Txn, ls: NbRow<'Logical_Switch'>, mine: (ids: Record<string, string>) => boolean, keys: string[]): void {
  const ports = ls.ports.filter((u) => {
    const p = txn.cache.get('Logical_Switch_Port', u);
    return p !== undefined && mine(p.external_ids);
  });
  const acls = ls.acls.filter((u) => {
    const a = txn.cache.get('ACL', u);
    return a !== undefined && mine(a.external_ids);
  });
  const drop = keys.filter((k) => k in ls.external_ids);
  if (ports.length) txn.mutate('Logical_Switch', byUuid(ls._uuid), [['ports', 'delete', ports]]);
  if (acls.length) txn.mutate('Logical_Switch', byUuid(ls._uuid), [['acls', 'delete', acls]]);
  if (drop.length) txn.mutate('Logical_Switch', byUuid(ls._uuid), [['external_ids', 'delete', drop]]);
}

/** Switch uuid, or a ref to one inserted earlier in this batch. */
export function switchRef(txn: Txn, name: string): string | NamedUuid | undefined {
  return txn.pendingRef('Logical_Switch', name) ?? findSwitch(txn, name)?._uuid;
}

/**
 * Converges the switch's ACLs that `mine` claims to `desired` with mutations, so ACLs someone else put on the
 * switch stay. `ls` is the switch's uuid or a ref to it inserted earlier in the batch.
 */
export function ensureSwitchAcls(txn: Txn, name: string, ls: string | NamedUuid, desired: AclSpec[], mine: (ids: Record<string, string>) => boolean): void {
  const row = typeof ls === 'string' ? txn.cache.get('Logical_Switch', ls) : undefined;
  const existing = (row?.acls ?? []).filter((u) => {
    const acl = txn.cache.get('ACL', u);
    return acl !== undefined && mine(acl.external_ids);
  });
  const { inserted, drop } = convergeAcls(txn, `${name}/acls`, existing, desired);
  if (drop.length) txn.mutate('Logical_Switch', byUuid(ls), [['acls', 'delete', drop]]);
  if (inserted.length) txn.mutate('Logical_Switch', byUuid(ls), [['acls', 'insert', inserted]]);
}
