// NB operations on address sets (named sets of IPs used as $name in ACL matches).
import { type Mutation, type Txn, byUuid, sameSet, sameMap } from './txn.js';

export function ensureAddressSet(txn: Txn, name: string, addresses: string[], external_ids: Record<string, string>): void {
  const have = txn.cache.lookupAll('Address_Set', 'name', name)[0];
  if (!have) {
    if (!txn.pendingRef('Address_Set', name)) txn.insert('Address_Set', name, { name, addresses, external_ids });
    return;
  }
  if (!sameMap(have.external_ids, external_ids)) txn.update('Address_Set', byUuid(have._uuid), { external_ids });
  if (sameSet(have.addresses, addresses)) return;
  // The difference only: a pod joining a set of hundreds sends one address, not the set, and
  // ovsdb-server logs and relays one. Mutations are exact on a fresh cache, and this object's syncs
  // are serialised, each reading the cache after the previous one's commit.
  const haveSet = new Set(have.addresses);
  const wantSet = new Set(addresses);
  const add = addresses.filter((a) => !haveSet.has(a));
  const del = have.addresses.filter((a) => !wantSet.has(a));
  const m: Mutation[] = [];
  if (del.length) m.push(['addresses', 'delete', del]);
  if (add.length) m.push(['addresses', 'insert', add]);
  txn.mutate('Address_Set', byUuid(have._uuid), m);
}

/** Adds/removes single addresses without rewriting the set (cheap per-pod change). */
export function addressSetAdd(txn: Txn, name: string, addresses: string[]): void {
  const have = txn.cache.lookupAll('Address_Set', 'name', name)[0];
  if (have && addresses.some((a) => !have.addresses.includes(a))) txn.mutate('Address_Set', byUuid(have._uuid), [['addresses', 'insert', addresses]]);
}

export function addressSetRemove(txn: Txn, name: string, addresses: string[]): void {
  const have = txn.cache.lookupAll('Address_Set', 'name', name)[0];
  if (have && addresses.some((a) => have.addresses.includes(a))) txn.mutate('Address_Set', byUuid(have._uuid), [['addresses', 'delete', addresses]]);
}

export function deleteAddressSet(txn: Txn, name: string): void {
  for (const as of txn.cache.lookupAll('Address_Set', 'name', name)) txn.delete('Address_Set', byUuid(as._uuid));
}
