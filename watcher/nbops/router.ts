// NB operations on logical routers and their ports.
import type { NamedUuid } from '../../lib/ovsdb/notation.js';
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

export interface RouterPortSpec {
  name: string;
  mac: string;
  networks: string[];
  external_ids: Record<string, string>;
}

/** Creates or updates a router port and links it to the router (named by `router`). */
export function ensureRouterPort(txn: Txn, router: string, spec: RouterPortSpec): void {
  const routerRef = txn.pendingRef('Logical_Router', router) ?? findRouter(txn, router)?._uuid;
  if (!routerRef) throw new Error(`ensureRouterPort ${spec.name}: router ${router} does not exist`);
  const have = txn.cache.lookupAll('Logical_Router_Port', 'name', spec.name)[0];
  if (!have) {
    const r = txn.insert('Logical_Router_Port', spec.name, { name: spec.name, mac: spec.mac, networks: spec.networks, external_ids: spec.external_ids });
    txn.mutate('Logical_Router', byUuid(routerRef), [['ports', 'insert', [r]]]);
    return;
  }
  if (have.mac !== spec.mac || !sameSet(have.networks, spec.networks) || !sameMap(have.external_ids, spec.external_ids)) {
    txn.update('Logical_Router_Port', byUuid(have._uuid), { mac: spec.mac, networks: spec.networks, external_ids: spec.external_ids });
  }
  const owner = txn.cache.filter('Logical_Router', (lr) => lr.ports.includes(have._uuid))[0];
  if (!owner || owner._uuid !== routerRef) txn.mutate('Logical_Router', byUuid(routerRef), [['ports', 'insert', [have._uuid]]]);
}

/** Removes a router port (the router's strong reference goes, so the row goes with it). */
export function deleteRouterPort(txn: Txn, name: string): void {
  const have = txn.cache.lookupAll('Logical_Router_Port', 'name', name)[0];
  if (!have) return;
  for (const lr of txn.cache.filter('Logical_Router', (r) => r.ports.includes(have._uuid))) {
    txn.mutate('Logical_Router', byUuid(lr._uuid), [['ports', 'delete', [have._uuid]]]);
  }
}
