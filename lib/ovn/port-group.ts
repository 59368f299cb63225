// NB operations on port groups (a set of LSPs usable as @name in ACL matches, carrying their ACLs).
import type { NamedUuid } from '../ovsdb/notation.js';
import { type Txn, byUuid, sameSet, sameMap } from './txn.js';
import { type AclSpec, convergeAcls } from './acl.js';
import { OWNER_KEY } from './names.js';

export interface PortGroupSpec {
  name: string;
  /** LSP uuids (or refs to LSPs inserted in this batch). */
  ports: Array<string | NamedUuid>;
  acls: AclSpec[];
  external_ids: Record<string, string>;
}

/** Creates or converges a port group: its member ports and its ACLs (ACLs diffed, not rewritten). */
export function ensurePortGroup(txn: Txn, spec: PortGroupSpec): void {
  const have = txn.cache.lookupAll('Port_Group', 'name', spec.name)[0];
  if (!have) {
    const { inserted } = convergeAcls(txn, spec.name, [], spec.acls);
    txn.insert('Port_Group', spec.name, { name: spec.name, ports: spec.ports, acls: inserted, external_ids: spec.external_ids });
    return;
  }
  // ACLs someone else put on this port group are not ours to converge: they stay as they are.
  const owner = spec.external_ids[OWNER_KEY];
  const isMine = (u: string) => txn.cache.get('ACL', u)?.external_ids[OWNER_KEY] === owner;
  const foreign = have.acls.filter((u) => txn.cache.get('ACL', u) && !isMine(u));
  const { inserted: aclRefs, keep, drop } = convergeAcls(txn, `${spec.name}/${have._uuid}`, have.acls.filter(isMine), spec.acls);
  const portsChanged = spec.ports.some((p) => typeof p !== 'string') || !sameSet(have.ports, spec.ports as string[]);
  if (portsChanged || aclRefs.length || drop.length || !sameMap(have.external_ids, spec.external_ids)) {
    txn.update('Port_Group', byUuid(have._uuid), { ports: spec.ports, acls: [...foreign, ...keep, ...aclRefs], external_ids: spec.external_ids });
  }
}

export function portGroupAddPorts(txn: Txn, name: string, ports: Array<string | NamedUuid>): void {
  const have = txn.cache.lookupAll('Port_Group', 'name', name)[0];
  if (have && ports.length) txn.mutate('Port_Group', byUuid(have._uuid), [['ports', 'insert', ports]]);
}

export function portGroupRemovePorts(txn: Txn, name: string, ports: string[]): void {
  const have = txn.cache.lookupAll('Port_Group', 'name', name)[0];
  const present = have ? ports.filter((p) => have.ports.includes(p)) : [];
  if (have && present.length) txn.mutate('Port_Group', byUuid(have._uuid), [['ports', 'delete', present]]);
}

/** Deletes the port group; its ACLs go with it (strong references from a non-root table). */
export function deletePortGroup(txn: Txn, name: string): void {
  for (const pg of txn.cache.lookupAll('Port_Group', 'name', name)) txn.delete('Port_Group', byUuid(pg._uuid));
}
