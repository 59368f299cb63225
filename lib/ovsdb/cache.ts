// In-memory typed cache of monitored tables, with single-column indexes (at least `name`)
// and the application of monitor updates (RFC 7047 "update" and the update2 extension,
// whose "modify" carries diffs: a set's symmetric difference, map pairs to add/remove/change).
import { type ColumnType, type SchemaLike, type TableName, type TablesShape, columnKind, isObj } from './schema.js';
import { type Atom, type Friendly, atomFromWire, defaultValue, rowFromWire, valueFromWire } from './notation.js';

export type ChangeKind = 'insert' | 'update' | 'delete';

/** A change to one cached row; narrow on `table` to get the row type. */
export type ChangeEvent<T extends TablesShape<T> = Record<string, { _uuid: string }>> = {
  [K in TableName<T>]: {
    table: K;
    kind: ChangeKind;
    /** The row after the change (for delete: the row as it was). */
    row: T[K];
    /** The row before an update. */
    old?: T[K];
  };
}[TableName<T>];

type Row = Record<string, unknown> & { _uuid: string };
type IndexMap = Map<Atom, Set<string>>;

interface TableState {
  rows: Map<string, Row>;
  /** Columns the monitor asked for: defaults are filled for these when update2 omits them. */
  columns: string[];
  indexes: Map<string, IndexMap>;
}

export class Cache<T extends TablesShape<T>> {
  private readonly tables = new Map<string, TableState>();

  constructor(private readonly model: SchemaLike) {}

  // ---- reading ----

  /** All cached rows of a table (empty if not monitored). */
  list<K extends TableName<T>>(table: K): T[K][] {
    const t = this.tables.get(table);
    return t ? ([...t.rows.values()] as unknown as T[K][]) : [];
  }

  get<K extends TableName<T>>(table: K, uuid: string): T[K] | undefined {
    return this.tables.get(table)?.rows.get(uuid) as T[K] | undefined;
  }

  find<K extends TableName<T>>(table: K, pred: (row: T[K]) => boolean): T[K] | undefined {
    const t = this.tables.get(table);
    if (!t) return undefined;
    for (const r of t.rows.values()) if (pred(r as unknown as T[K])) return r as unknown as T[K];
    return undefined;
  }

  filter<K extends TableName<T>>(table: K, pred: (row: T[K]) => boolean): T[K][] {
    return this.list(table).filter(pred);
  }

  /** First row whose `column` equals `value`; indexed for `name` and single-column schema indexes, a scan otherwise. */
  lookup<K extends TableName<T>, C extends keyof T[K] & string>(table: K, column: C, value: T[K][C]): T[K] | undefined {
    return this.lookupAll(table, column, value)[0];
  }

  lookupAll<K extends TableName<T>, C extends keyof T[K] & string>(table: K, column: C, value: T[K][C]): T[K][] {
    const t = this.tables.get(table);
    if (!t) return [];
    const idx = t.indexes.get(column);
    if (idx) {
      const ids = idx.get(value as Atom);
      return ids ? [...ids].map((u) => t.rows.get(u) as unknown as T[K]) : [];
    }
    return this.filter(table, (r) => r[column] === value);
  }

  size(table: TableName<T>): number {
    return this.tables.get(table)?.rows.size ?? 0;
  }

  isMonitored(table: string): boolean {
    return this.tables.has(table);
  }

  /** Names of the tables being monitored. */
  monitoredTables(): string[] {
    return [...this.tables.keys()];
  }

  // ---- writing (used by the client) ----

  /** Prepares an empty table for a monitor, with its indexes. */
  track(table: string, columns: string[] | undefined): void {
    const ts = this.model.tables[table];
    if (!ts) throw new Error(`${this.model.name}: no table ${JSON.stringify(table)}`);
    const cols = columns ?? Object.keys(ts.columns);
    const indexed = new Set<string>();
    if (ts.columns.name && columnKind(ts.columns.name) !== 'map' && columnKind(ts.columns.name) !== 'set') indexed.add('name');
    for (const ix of ts.indexes) if (ix.length === 1 && ts.columns[ix[0]!] && columnKind(ts.columns[ix[0]!]!) === 'scalar') indexed.add(ix[0]!);
    const indexes = new Map<string, IndexMap>();
    for (const c of indexed) if (cols.includes(c)) indexes.set(c, new Map());
    this.tables.set(table, { rows: new Map(), columns: cols, indexes });
  }

  untrack(table: string): void {
    this.tables.delete(table);
  }

  /** Builds a complete row from an update2 "initial"/"insert" (which omits default values). */
  fullRow(table: string, uuid: string, wire: unknown): Row {
    const t = this.state(table);
    const ts = this.model.tables[table]!;
    const row: Record<string, unknown> = { _uuid: uuid };
    const given = rowFromWire(this.model, table, wire);
    for (const c of t.columns) {
      const v = c in given ? given[c] : defaultValue(ts.columns[c]!);
      if (v !== undefined) row[c] = v;
    }
    return Object.freeze(row) as Row;
  }

  /** Applies one row of an update2 notification (or monitor_cond reply). */
  applyUpdate2(table: string, uuid: string, ru: unknown): ChangeEvent<T> | undefined {
    if (!isObj(ru)) throw new Error(`update2 ${table} ${uuid}: row update is not an object`);
    if ('initial' in ru || 'insert' in ru) return this.put(table, this.fullRow(table, uuid, ru.initial ?? ru.insert));
    if ('delete' in ru) return this.remove(table, uuid);
    if ('modify' in ru) {
      const old = this.state(table).rows.get(uuid);
      if (!old) throw new Error(`update2 ${table}: modify of unknown row ${uuid}`);
      return this.put(table, this.applyDiff(table, old, ru.modify));
    }
    throw new Error(`update2 ${table} ${uuid}: unknown row update ${JSON.stringify(Object.keys(ru))}`);
  }

  /** Applies one row of an RFC 7047 "update" notification (monitor fallback): `new` holds every monitored column. */
  applyUpdate(table: string, uuid: string, ru: unknown): ChangeEvent<T> | undefined {
    if (!isObj(ru)) throw new Error(`update ${table} ${uuid}: row update is not an object`);
    if (ru.new === undefined || ru.new === null) return this.remove(table, uuid);
    return this.put(table, this.fullRow(table, uuid, ru.new));
  }

  /** Replaces a table's rows with the server's truth; returns the synthetic events for the differences. */
  reconcile(table: string, fresh: Map<string, Row>): ChangeEvent<T>[] {
    const t = this.state(table);
    const events: ChangeEvent<T>[] = [];
    for (const [uuid, old] of t.rows) if (!fresh.has(uuid)) events.push(this.remove(table, uuid)!);
    for (const row of fresh.values()) {
      const old = t.rows.get(row._uuid);
      if (old && rowsEqual(old, row)) continue;
      events.push(this.put(table, row)!);
    }
    return events;
  }

  private state(table: string): TableState {
    const t = this.tables.get(table);
    if (!t) throw new Error(`cache: table ${table} is not monitored`);
    return t;
  }

  private put(table: string, row: Row): ChangeEvent<T> {
    const t = this.state(table);
    const old = t.rows.get(row._uuid);
    if (old) this.unindex(t, old);
    t.rows.set(row._uuid, row);
    this.index(t, row);
    const ev = { table, kind: old ? 'update' : 'insert', row } as unknown as ChangeEvent<T>;
    if (old) ev.old = old as never;
    return ev;
  }

  private remove(table: string, uuid: string): ChangeEvent<T> | undefined {
    const t = this.state(table);
    const old = t.rows.get(uuid);
    if (!old) return undefined;
    t.rows.delete(uuid);
    this.unindex(t, old);
    return { table, kind: 'delete', row: old } as unknown as ChangeEvent<T>;
  }

  private index(t: TableState, row: Row): void {
    for (const [col, idx] of t.indexes) {
      const v = row[col] as Atom | undefined;
      if (v === undefined) continue;
      let s = idx.get(v);
      if (!s) idx.set(v, (s = new Set()));
      s.add(row._uuid);
    }
  }

  private unindex(t: TableState, row: Row): void {
    for (const [col, idx] of t.indexes) {
      const v = row[col] as Atom | undefined;
      if (v === undefined) continue;
      const s = idx.get(v);
      if (!s) continue;
      s.delete(row._uuid);
      if (s.size === 0) idx.delete(v);
    }
  }

  private applyDiff(table: string, old: Row, diff: unknown): Row {
    if (!isObj(diff)) throw new Error(`update2 ${table} ${old._uuid}: modify is not an object`);
    const ts = this.model.tables[table]!;
    const row: Record<string, unknown> = { ...old };
    for (const [col, w] of Object.entries(diff)) {
      const ct = ts.columns[col];
      if (!ct) continue;
      const v = applyColumnDiff(ct, old[col] as Friendly, w);
      if (v === undefined) delete row[col];
      else row[col] = v;
    }
    return Object.freeze(row) as Row;
  }
}

/**
 * update2 column diff: columns with at most one value (scalars and optionals) carry the new
 * value; sets toggle each listed element; maps add, remove (same value) or change (new value) each pair.
 */
export function applyColumnDiff(ct: ColumnType, old: Friendly, w: unknown): Friendly {
  switch (columnKind(ct)) {
    case 'scalar':
    case 'optional':
      return valueFromWire(ct, w);
    case 'set': {
      const cur = old === undefined ? [] : Array.isArray(old) ? [...old] : [old as Atom];
      const elems = Array.isArray(w) && w[0] === 'set' ? (w[1] as unknown[]) : [w];
      for (const e of elems) {
        const a = atomFromWire(e);
        const i = cur.indexOf(a);
        if (i >= 0) cur.splice(i, 1);
        else cur.push(a);
      }
      return cur;
    }
    case 'map': {
      const cur: Record<string, Atom> = { ...((old ?? {}) as Record<string, Atom>) };
      const d = valueFromWire(ct, w) as Record<string, Atom>;
      for (const [k, v] of Object.entries(d)) {
        if (k in cur && cur[k] === v) delete cur[k];
        else cur[k] = v;
      }
      return cur;
    }
  }
}

function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    const s = new Set(a);
    return b.every((x) => s.has(x));
  }
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => a[k] === b[k]);
  }
  return false;
}

export function rowsEqual(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => k in b && valuesEqual(a[k], b[k]));
}
