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

function mapChange(column: 'options' | 'external_ids', drop: readonly string[], set: Record<string, string> | undefined): Mutation[] {
  const del = [...new Set([...drop, ...Object.keys(set ?? {})])];
  const m: Mutation[] = [];
  if (del.length) m.push([column, 'delete', del]);
  if (set) m.push([column, 'insert', set]);
  return m;
}

/** Appends the change to the batch: an update for the name, one mutation per map (deletes before inserts). */
export function changeNbGlobal(txn: Txn, c: NbGlobalChange): void {
  if (c.name !== undefined) txn.update('NB_Global', [], { name: c.name });
  const opts = mapChange('options', c.dropOptions ?? [], c.setOptions);
  if (opts.length) txn.mutate('NB_Global', [], opts);
  const ext = mapChange('external_ids', c.dropExternalIds ?? [], c.setExternalIds);
  if (ext.length) txn.mutate('NB_Global', [], ext);
}
