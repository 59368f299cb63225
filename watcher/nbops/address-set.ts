// NB operations on address sets (named sets of IPs used as $name in ACL matches).
import { type Txn, byUuid, sameSet, sameMap } from './txn.js';

export function ensureAddressSet(txn: Txn, name: string, addresses: string[], external_ids: Record<string, string>): void {
  const have = txn.cache.lookupAll('Address_Set', 'name', name)[0];
  if (!have) {
    if (!txn.pendingRef('Address_Set', name)) txn.insert('Address_Set', name, { name, addresses, external_ids });
    return;
  }
  if (!sameSet(have.addresses, addresses) || !sameMap(have.external_ids, external_ids)) {
    txn.update('Address_Set', byUuid(have._uuid), { addresses, external_ids });
  }
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
