// An NB cache holding given rows, as a monitor would have delivered them: the vocabulary's input in unit tests;
// and the row uuids and watcher-owned external_ids those rows are written with.
import { Cache } from '../../../lib/ovsdb/cache.js';
import { rowToWire } from '../../../lib/ovsdb/notation.js';
import { NB_MODEL, type NBTables } from '../../../lib/ovsdb/models/nb.js';

export type T = keyof NBTables & string;

export function cacheWith(rows: Partial<Record<T, Array<Record<string, unknown>>>>): Cache<NBTables> {
  const c = new Cache<NBTables>(NB_MODEL);
  for (const t of Object.keys(NB_MODEL.tables) as T[]) c.track(t, undefined);
  for (const [t, list] of Object.entries(rows) as Array<[T, Array<Record<string, unknown>>]>) {
    for (const r of list) {
      const { _uuid, ...rest } = r;
      c.applyUpdate2(t, String(_uuid), { initial: rowToWire(NB_MODEL, t, rest) });
    }
  }
  return c;
}

/** The uuid numbered `n`, readable in an op's JSON: 00000000-0000-0000-0000-0000000000nn. */
export const U = (n: number): string => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;

/** The external_ids the watcher writes on a row it owns for object `obj` of `kind`. */
export const ours = (kind: string, obj: string) => ({ 'tessera.io/owner': 'tessera-watcher', 'tessera.io/kind': kind, 'tessera.io/object': obj });
