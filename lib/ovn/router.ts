// NB operations on logical routers and their ports.
import type { NamedUuid } from '../ovsdb/notation.js';
import { type Txn, type NbRow, byUuid, byName, sameMap, sameSet } from './txn.js';

export interface RouterSpec {
  name: string;
  external_ids: Record<string, string>;
  options?: Record<string, string>;
}

function findRouter(txn: Txn, name: string): NbRow<'Logical_Router'> | undefined {
  return txn.cache.lookupAll('Logical_Router', 'name', name)[0];
}

/** Creates the router if absent (guarded against a concurrent creator), fixes external_ids/options if drifted. */
export function ensureRouter(txn: Txn, spec: RouterSpec): string | NamedUuid {
  const pending = txn.pendingRef('Logical_Router', spec.name);
  if (pending) return pending;
  const have = findRouter(txn, spec.name);
  if (!have) {
    txn.assertAbsent('Logical_Router', byName(spec.name));
    return txn.insert('Logical_Router', spec.name, { name: spec.name, external_ids: spec.external_ids, options: spec.options ?? {} });
  }
  if (!sameMap(have.external_ids, spec.external_ids) || (spec.options && !sameMap(have.options, spec.options))) {
    txn.update('Logical_Router', byUuid(have._uuid), { external_ids: spec.external_ids, ...(spec.options ? { options: spec.options } : {}) });
  }
  return have._uuid;
}

/** A gateway chassis of a router port: the chassis that may host it, the highest priority first. */
export interface GatewayChassisSpec {
  name: string;
  chassis_name: string;
  priority: number;
  external_ids: Record<string, string>;
}

export interface RouterPortSpec {
  name: string;
  mac: string;
  networks: string[];
  external_ids: Record<string, string>;
  /** Exactly these gateway chassis; undefined leaves the port's gateway chassis alone. */
  gateway_chassis?: GatewayChassisSpec[];
}

/** Router uuid, or a ref to one inserted earlier in this batch. */
export function routerRef(txn: Txn, name: string): string | NamedUuid | undefined {
  return txn.pendingRef('Logical_Router', name) ?? findRouter(txn, name)?._uuid;
}

function sameGatewayChassis(txn: Txn, have: readonly string[], want: readonly GatewayChassisSpec[]): boolean {
  const rows = have.map((u) => txn.cache.get('Gateway_Chassis', u)).filter((g) => g !== undefined);
  return rows.length === want.length && want.every((w) => rows.some((g) => g.chassis_name === w.chassis_name && g.priority === w.priority && g.name === w.name));
}

/** Inserts the gateway chassis rows; the port's reference to them is what keeps them (the table is not root). */
function insertGatewayChassis(txn: Txn, port: string, want: readonly GatewayChassisSpec[]): NamedUuid[] {
  return want.map((w) => txn.insert('Gateway_Chassis', `${port}/${w.name}`, { name: w.name, chassis_name: w.chassis_name, priority: w.priority, external_ids: w.external_ids }));
}

/**
 * Creates or updates a router port and links it to the router (named by `router`), taking it off any other router.
 * Returns its uuid or ref.
 */
export function ensureRouterPort(txn: Txn, router: string, spec: RouterPortSpec): string | NamedUuid {
  const lr = routerRef(txn, router);
  if (!lr) throw new Error(`ensureRouterPort ${spec.name}: router ${router} does not exist`);
  const have = txn.cache.lookupAll('Logical_Router_Port', 'name', spec.name)[0];
  if (!have) {
    const gw = spec.gateway_chassis ? { gateway_chassis: insertGatewayChassis(txn, spec.name, spec.gateway_chassis) } : {};
    const r = txn.insert('Logical_Router_Port', spec.name, { name: spec.name, mac: spec.mac, networks: spec.networks, external_ids: spec.external_ids, ...gw });
    txn.mutate('Logical_Router', byUuid(lr), [['ports', 'insert', [r]]]);
    return r;
  }
  if (have.mac !== spec.mac || !sameSet(have.networks, spec.networks) || !sameMap(have.external_ids, spec.external_ids)) {
    txn.update('Logical_Router_Port', byUuid(have._uuid), { mac: spec.mac, networks: spec.networks, external_ids: spec.external_ids });
  }
  if (spec.gateway_chassis && !sameGatewayChassis(txn, have.gateway_chassis, spec.gateway_chassis)) {
    // Replacing the references garbage-collects the old rows.
    txn.update('Logical_Router_Port', byUuid(have._uuid), { gateway_chassis: insertGatewayChassis(txn, spec.name, spec.gateway_chassis) });
  }
  // A router port belongs to one router: one another router holds is moved here, both mutations in this transaction
  // (the row stays referenced throughout, so it is not garbage-collected between them).
  const holders = txn.cache.filter('Logical_Router', (r) => r.ports.includes(have._uuid));
  for (const h of holders) if (h._uuid !== lr) txn.mutate('Logical_Router', byUuid(h._uuid), [['ports', 'delete', [have._uuid]]]);
  if (!holders.some((h) => h._uuid === lr)) txn.mutate('Logical_Router', byUuid(lr), [['ports', 'insert', [have._uuid]]]);
  return have._uuid;
}

/** Deletes the router; its ports, routes, NATs and policies go with it (strong references from non-root tables). */
export function deleteRouter(txn: Txn, name: string): void {
  for (const lr of txn.cache.lookupAll('Logical_Router', 'name', name)) txn.delete('Logical_Router', byUuid(lr._uuid));
}

/** Removes a router port (the router's strong reference goes, so the row goes with it). */
export function deleteRouterPort(txn: Txn, name: string): void {
  const have = txn.cache.lookupAll('Logical_Router_Port', 'name', name)[0];
  if (!have) return;
  for (const lr of txn.cache.filter('Logical_Router', (r) => r.ports.includes(have._uuid))) {
    txn.mutate('Logical_Router', byUuid(lr._uuid), [['ports', 'delete', [have._uuid]]]);
  }
}
