// NB_Global, the one-row table: the AZ name and the options/external_ids keys a writer owns. Keys are removed and set
// by mutation, so keys others own (northd's mac_prefix, ovn-ic's) stay.
import type { Mutation, Txn } from './txn.js';

export interface NbGlobalChange {
  /** The AZ name; undefined leaves it. */
  name?: string;
  /** options: these keys removed first, then `setOptions` inserted (a map insert never overwrites a key). */
  dropOptions?: readonly string[];
  setOptions?: Record<string, string>;
  dropExternalIds?: readonly string[];
  setExternalIds?: Record<string, string>;
}

/** Whether `have` already holds every key of `set` and none of `drop` (other than those `set` keeps). */
function settled(have: Record<string, string>, drop: readonly string[], set: Record<string, string> | undefined): boolean {
  return Object.entries(set ?? {}).every(([k, v]) => have[k] === v) && drop.every((k) => (set && k in set) || !(k in have));
}

function mapChange(column: 'options' | 'external_ids', drop: readonly string[], set: Record<string, string> | undefined, have: Record<string, string> | undefined): Mutation[] {
  if (have && settled(have, drop, set)) return [];
  const del = [...new Set([...drop, ...Object.keys(set ?? {})])];
  const m: Mutation[] = [];
  if (del.length) m.push([column, 'delete', del]);
  if (set) m.push([column, 'insert', set]);
  return m;
}

/**
 * Appends the change to the batch: an update for the name, one mutation per map (deletes before inserts). With
 * NB_Global in the cache, parts already in place are left out, so the same change twice writes nothing.
 */
export function changeNbGlobal(txn: Txn, c: NbGlobalChange): void {
  const have = txn.cache.isMonitored('NB_Global') ? txn.cache.list('NB_Global')[0] : undefined;
  if (c.name !== undefined && have?.name !== c.name) txn.update('NB_Global', [], { name: c.name });
  const opts = mapChange('options', c.dropOptions ?? [], c.setOptions, have?.options);
  if (opts.length) txn.mutate('NB_Global', [], opts);
  const ext = mapChange('external_ids', c.dropExternalIds ?? [], c.setExternalIds, have?.external_ids);
  if (ext.length) txn.mutate('NB_Global', [], ext);
}
