// NB operations on logical switch ports.
import { type Txn, type NbRow, byUuid, sameMap, sameSet } from './txn.js';
import { switchRef } from './switch.js';
import { OWNER_KEY } from './names.js';

/** A port of that name exists and carries no Tessera owner id: another writer's row, which Tessera never changes. */
export class ForeignPortError extends Error {
  constructor(readonly port: string) {
    super(`logical switch port ${port} exists and is not Tessera's (no ${OWNER_KEY} external id); it is left as it is`);
  }
}

export interface PortSpec {
  name: string;
  addresses: string[];
  port_security?: string[];
  type?: string;
  options?: Record<string, string>;
  external_ids: Record<string, string>;
  /**
   * A child port (a pod inside a VM): the VM's port and the VLAN id its frames carry there. The tag goes into both
   * tag_request and tag, so ovn-northd, which fills an empty tag from tag_request, has nothing to write.
   */
  parent_name?: string;
  tag?: number;
}

export function findPort(txn: Txn, name: string): NbRow<'Logical_Switch_Port'> | undefined {
  return txn.cache.lookupAll('Logical_Switch_Port', 'name', name)[0];
}

/** Switches that hold the port (normally one). */
export function switchesOfPort(txn: Txn, portUuid: string): NbRow<'Logical_Switch'>[] {
  return txn.cache.filter('Logical_Switch', (ls) => ls.ports.includes(portUuid));
}

/**
 * Creates the port on switch `ls`, or updates it in place. A port found on another switch (a pod that
 * moved, or a stale row) is deleted and recreated on the right one. Returns the port's uuid or ref.
 * Throws ForeignPortError, writing nothing, when a port of that name carries no Tessera owner id.
 */
export function createOrUpdatePort(txn: Txn, ls: string, spec: PortSpec) {
  const lsRef = switchRef(txn, ls);
  if (!lsRef) throw new Error(`createOrUpdatePort ${spec.name}: logical switch ${ls} does not exist`);
  const row = {
    name: spec.name,
    addresses: spec.addresses,
    port_security: spec.port_security ?? [],
    type: spec.type ?? '',
    options: spec.options ?? {},
    external_ids: spec.external_ids,
    parent_name: spec.parent_name,
    tag_request: spec.tag,
    tag: spec.tag,
  };
  const have = findPort(txn, spec.name);
  if (have && !have.external_ids[OWNER_KEY]) throw new ForeignPortError(spec.name);
  if (have) {
    // The usual case (already on the right switch) looks at that one switch only, not at every switch.
    const target = typeof lsRef === 'string' ? txn.cache.get('Logical_Switch', lsRef) : undefined;
    const onRight = !!target?.ports.includes(have._uuid);
    if (onRight) {
      if (
        !sameSet(have.addresses, row.addresses) || !sameSet(have.port_security, row.port_security) || have.type !== row.type ||
        !sameMap(have.options, row.options) || !sameMap(have.external_ids, row.external_ids) ||
        have.parent_name !== row.parent_name || have.tag !== row.tag || have.tag_request !== row.tag_request
      ) {
        txn.update('Logical_Switch_Port', byUuid(have._uuid), row);
      }
      return have._uuid;
    }
    for (const h of switchesOfPort(txn, have._uuid)) txn.mutate('Logical_Switch', byUuid(h._uuid), [['ports', 'delete', [have._uuid]]]);
  }
  const r = txn.insert('Logical_Switch_Port', spec.name, row);
  txn.mutate('Logical_Switch', byUuid(lsRef), [['ports', 'insert', [r]]]);
  return r;
}

/** Deletes the port by dropping it from every switch that holds it. Returns whether it existed. */
export function deletePort(txn: Txn, name: string): boolean {
  const have = findPort(txn, name);
  if (!have) return false;
  for (const h of switchesOfPort(txn, have._uuid)) txn.mutate('Logical_Switch', byUuid(h._uuid), [['ports', 'delete', [have._uuid]]]);
  return true;
}

/**
 * Sets the options keys in `set` on an existing port, leaving its other keys alone (a transit switch port's options
 * also carry ovn-ic's requested-tnl-key, which must survive). A map insert never overwrites, so changed keys are
 * deleted first.
 */
export function setPortOptions(txn: Txn, port: NbRow<'Logical_Switch_Port'>, set: Record<string, string>): void {
  const changed = Object.keys(set).filter((k) => port.options[k] !== set[k]);
  if (!changed.length) return;
  txn.mutate('Logical_Switch_Port', byUuid(port._uuid), [['options', 'delete', changed]]);
  txn.mutate('Logical_Switch_Port', byUuid(port._uuid), [['options', 'insert', Object.fromEntries(changed.map((k) => [k, set[k]!]))]]);
}
