// Transaction operation builders (RFC 7047 §5.2), conditions and mutations, bound to a
// model so friendly values are converted to the wire notation by column type.
import { type ColumnType, type DatabaseModel, type RowBase, type SchemaLike, type TableName, type TablesShape, columnKind, columnType, tableSchema } from './schema.js';
import { type Friendly, type FriendlyValue, type WireRow, type WireValue, NamedUuid, atomToWire, rowFromWire, rowToWire, valueToWire } from './notation.js';

// ---- value types for writing (uuid columns accept ref('name') too) ----
type WriteAtom<V> = V extends string ? V | NamedUuid : V;
export type WriteValue<V> = V extends readonly (infer E)[] ? WriteAtom<E>[] : V extends object ? { [k in keyof V]?: WriteAtom<V[k]> } : WriteAtom<V> | (undefined extends V ? undefined : never);
/** A row to insert or the columns to update: every column optional, `_uuid` excluded. */
export type WriteRow<R> = { [K in Exclude<keyof R, '_uuid'>]?: WriteValue<R[K]> };

export type ConditionFn = '==' | '!=' | 'includes' | 'excludes' | '<' | '<=' | '>' | '>=';
type CondValue<V> = WriteValue<V> | (V extends readonly (infer E)[] ? E : never) | (undefined extends V ? undefined : never);
/** `[column, function, value]`, typed per column. */
export type Condition<R> = { [C in keyof R & string]: [C, ConditionFn, CondValue<R[C]>] }[keyof R & string];

export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
type MutValue<V> = WriteValue<V> | (V extends readonly (infer E)[] ? WriteAtom<E> : never) | (V extends readonly unknown[] ? never : V extends object ? string[] : never);
/** `[column, mutator, value]`; for a map `delete` the value may be a list of keys. */
export type Mutation<R> = { [C in Exclude<keyof R, '_uuid'> & string]: [C, Mutator, MutValue<R[C]>] }[Exclude<keyof R, '_uuid'> & string];

/** An operation ready to send; `Res` is the shape of its result. */
export interface Op<Res = unknown> {
  readonly wire: Record<string, unknown>;
  /** Converts the server's result for this op. */
  readonly decode: (raw: Record<string, unknown>) => Res;
  /** Type-level only. */
  readonly __result?: Res;
}

export type ResultsOf<O extends readonly Op[]> = { -readonly [I in keyof O]: O[I] extends Op<infer R> ? R : never };

export interface InsertResult {
  uuid: string;
}
export interface CountResult {
  count: number;
}
export interface SelectResult<Row> {
  rows: Row[];
}
export type EmptyResult = Record<string, never>;

const empty = (): EmptyResult => ({}) as EmptyResult;
const count = (raw: Record<string, unknown>): CountResult => ({ count: typeof raw.count === 'number' ? raw.count : 0 });

// ---- conversion of conditions and mutations ----

function toWire(ct: ColumnType, v: unknown, where: string): WireValue {
  return valueToWire(ct, v as FriendlyValue, where);
}

export function conditionToWire(model: SchemaLike, table: string, c: readonly unknown[]): [string, string, WireValue] {
  const [col, fn, v] = c;
  if (typeof col !== 'string' || typeof fn !== 'string' || c.length !== 3) throw new Error(`${table}: condition must be [column, function, value], got ${JSON.stringify(c)}`);
  if (!['==', '!=', 'includes', 'excludes', '<', '<=', '>', '>='].includes(fn)) throw new Error(`${table}.${col}: unknown condition function ${JSON.stringify(fn)}`);
  const ct = columnType(model, table, col);
  if (fn.startsWith('<') || fn.startsWith('>')) {
    if ((ct.key.type !== 'integer' && ct.key.type !== 'real') || columnKind(ct) === 'map') throw new Error(`${table}.${col}: ${fn} needs an integer or real column`);
    return [col, fn, atomToWire(ct.key, v, `${table}.${col}`)];
  }
  return [col, fn, toWire(ct, v, `${table}.${col}`)];
}

export function mutationToWire(model: SchemaLike, table: string, m: readonly unknown[]): [string, string, WireValue] {
  const [col, mut, v] = m;
  if (typeof col !== 'string' || typeof mut !== 'string' || m.length !== 3) throw new Error(`${table}: mutation must be [column, mutator, value], got ${JSON.stringify(m)}`);
  const ct = columnType(model, table, col);
  const where = `${table}.${col}`;
  switch (mut) {
    case '+=':
    case '-=':
    case '*=':
    case '/=':
    case '%=':
      if (ct.value || (ct.key.type !== 'integer' && ct.key.type !== 'real')) throw new Error(`${where}: ${mut} needs an integer or real column`);
      return [col, mut, atomToWire(ct.key, v, where)];
    case 'insert':
    case 'delete':
      if (columnKind(ct) === 'scalar') throw new Error(`${where}: ${mut} needs a set or map column`);
      if (ct.value && mut === 'delete' && Array.isArray(v)) {
        // Deleting keys from a map: the value is a set of keys.
        return [col, mut, valueToWire({ key: ct.key, min: 0, max: 'unlimited' }, v, where)];
      }
      return [col, mut, valueToWire({ ...ct, min: 0, max: 'unlimited' }, v as FriendlyValue, where)];
    default:
      throw new Error(`${where}: unknown mutator ${JSON.stringify(mut)}`);
  }
}

// ---- the builder ----

export interface OpBuilder<T extends TablesShape<T>> {
  insert<K extends TableName<T>>(table: K, row: WriteRow<T[K]>, uuidName?: string): Op<InsertResult>;
  update<K extends TableName<T>>(table: K, where: Condition<T[K]>[], row: WriteRow<T[K]>): Op<CountResult>;
  mutate<K extends TableName<T>>(table: K, where: Condition<T[K]>[], mutations: Mutation<T[K]>[]): Op<CountResult>;
  delete<K extends TableName<T>>(table: K, where: Condition<T[K]>[]): Op<CountResult>;
  select<K extends TableName<T>>(table: K, where: Condition<T[K]>[]): Op<SelectResult<T[K]>>;
  select<K extends TableName<T>, C extends keyof T[K] & string>(table: K, where: Condition<T[K]>[], columns: C[]): Op<SelectResult<Pick<T[K], C | '_uuid'>>>;
  /** Waits until the rows matching `where`, projected on `columns`, are (`==`) or are not (`!=`) exactly `rows`. */
  wait<K extends TableName<T>>(table: K, where: Condition<T[K]>[], columns: (keyof T[K] & string)[], until: '==' | '!=', rows: WriteRow<T[K]>[], timeoutMs?: number): Op<EmptyResult>;
  commit(durable: boolean): Op<EmptyResult>;
  abort(): Op<EmptyResult>;
  assert(lock: string): Op<EmptyResult>;
  comment(text: string): Op<EmptyResult>;
}

export function op<T extends TablesShape<T>>(model: DatabaseModel<T>): OpBuilder<T> {
  const m = model as unknown as SchemaLike;
  const conds = (table: string, where: readonly (readonly unknown[])[]): [string, string, WireValue][] => {
    if (!Array.isArray(where)) throw new Error(`${table}: where must be a list of conditions`);
    return where.map((c) => conditionToWire(m, table, c));
  };
  const decodeRows =
    (table: string) =>
    (raw: Record<string, unknown>): SelectResult<never> => ({
      rows: (Array.isArray(raw.rows) ? raw.rows : []).map((r) => rowFromWire(m, table, r) as never),
    });
  const b = {
    insert(table: string, row: object, uuidName?: string): Op<InsertResult> {
      tableSchema(m, table);
      const wire: Record<string, unknown> = { op: 'insert', table, row: rowToWire(m, table, row) };
      if (uuidName !== undefined) wire['uuid-name'] = new NamedUuid(uuidName).name;
      return { wire, decode: (raw) => ({ uuid: uuidOf(raw.uuid) }) };
    },
    update(table: string, where: unknown[][], row: object): Op<CountResult> {
      const w = rowToWire(m, table, row);
      for (const col of Object.keys(w)) if (col.startsWith('_')) throw new Error(`${table}.${col}: cannot be updated`);
      return { wire: { op: 'update', table, where: conds(table, where), row: w }, decode: count };
    },
    mutate(table: string, where: unknown[][], mutations: unknown[][]): Op<CountResult> {
      return { wire: { op: 'mutate', table, where: conds(table, where), mutations: mutations.map((mu) => mutationToWire(m, table, mu)) }, decode: count };
    },
    delete(table: string, where: unknown[][]): Op<CountResult> {
      return { wire: { op: 'delete', table, where: conds(table, where) }, decode: count };
    },
    select(table: string, where: unknown[][], columns?: string[]): Op<SelectResult<never>> {
      const wire: Record<string, unknown> = { op: 'select', table, where: conds(table, where) };
      if (columns) {
        for (const c of columns) columnType(m, table, c);
        wire.columns = columns.includes('_uuid') ? columns : ['_uuid', ...columns];
      }
      return { wire, decode: decodeRows(table) };
    },
    wait(table: string, where: unknown[][], columns: string[], until: '==' | '!=', rows: object[], timeoutMs?: number): Op<EmptyResult> {
      for (const c of columns) columnType(m, table, c);
      const wire: Record<string, unknown> = { op: 'wait', table, where: conds(table, where), columns, until, rows: rows.map((r) => rowToWire(m, table, r)) };
      if (timeoutMs !== undefined) wire.timeout = timeoutMs;
      return { wire, decode: empty };
    },
    commit: (durable: boolean): Op<EmptyResult> => ({ wire: { op: 'commit', durable }, decode: empty }),
    abort: (): Op<EmptyResult> => ({ wire: { op: 'abort' }, decode: empty }),
    assert: (lock: string): Op<EmptyResult> => ({ wire: { op: 'assert', lock: lockId(lock) }, decode: empty }),
    comment: (text: string): Op<EmptyResult> => ({ wire: { op: 'comment', comment: text }, decode: empty }),
  };
  return b as unknown as OpBuilder<T>;
}

/** Lock names are RFC 7047 <id>s; the server answers anything else with a bare "syntax error". */
export function lockId(lock: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(lock)) throw new Error(`lock ${JSON.stringify(lock)}: must match [A-Za-z_][A-Za-z0-9_]*`);
  return lock;
}

function uuidOf(v: unknown): string {
  if (Array.isArray(v) && v[0] === 'uuid' && typeof v[1] === 'string') return v[1];
  throw new Error(`insert: server returned no uuid (${JSON.stringify(v)})`);
}

// ---- client-side evaluation of conditions (used when the server lacks monitor_cond) ----

function asSet(v: Friendly): unknown[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function sameSet(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

/** Evaluates one friendly condition against a friendly row. */
export function matchesCondition(model: SchemaLike, table: string, row: Record<string, unknown>, c: readonly unknown[]): boolean {
  const [col, fn, v] = c as [string, ConditionFn, Friendly];
  const ct = columnType(model, table, col);
  const rv = row[col] as Friendly;
  if (columnKind(ct) === 'map') {
    const rm = (rv ?? {}) as Record<string, unknown>;
    const vm = (v ?? {}) as Record<string, unknown>;
    const pairsIn = Object.entries(vm).filter(([k, x]) => rm[k] === x).length;
    switch (fn) {
      case '==':
        return pairsIn === Object.keys(vm).length && Object.keys(rm).length === Object.keys(vm).length;
      case '!=':
        return !(pairsIn === Object.keys(vm).length && Object.keys(rm).length === Object.keys(vm).length);
      case 'includes':
        return pairsIn === Object.keys(vm).length;
      case 'excludes':
        return pairsIn === 0;
      default:
        return false;
    }
  }
  const rs = asSet(rv);
  const vs = asSet(v);
  switch (fn) {
    case '==':
      return sameSet(rs, vs);
    case '!=':
      return !sameSet(rs, vs);
    case 'includes':
      return vs.every((x) => rs.includes(x));
    case 'excludes':
      return vs.every((x) => !rs.includes(x));
    case '<':
      return typeof rv === 'number' && rv < (v as number);
    case '<=':
      return typeof rv === 'number' && rv <= (v as number);
    case '>':
      return typeof rv === 'number' && rv > (v as number);
    case '>=':
      return typeof rv === 'number' && rv >= (v as number);
  }
}

export type { RowBase, WireRow };
