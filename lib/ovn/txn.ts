// A batch of NB operations under construction. NB operations (lib/ovn/*.ts) append to a Txn; a
// writer composes several into one Txn and commits it once, so a pod is one transaction.
// The Txn also remembers rows inserted earlier in the same batch, so later operations in the batch
// refer to them by named-uuid instead of by a uuid the server has not assigned yet.
import { createHash } from 'node:crypto';
import { NamedUuid, ref } from '../ovsdb/notation.js';
import type { NBTables } from '../ovsdb/models/nb.js';
import type { Cache } from '../ovsdb/cache.js';

export type NbTable = keyof NBTables & string;
export type NbRow<T extends NbTable> = NBTables[T];

/** A uuid column accepts either a real uuid or a ref to a row inserted in the same batch. */
type WithRefs<V> = V extends string ? V | NamedUuid : V extends string[] ? Array<string | NamedUuid> : V;
export type RowInput<T extends NbTable> = { [K in Exclude<keyof NbRow<T>, '_uuid'>]?: WithRefs<NbRow<T>[K]> };

export type CondOp = '==' | '!=' | 'includes' | 'excludes' | '<' | '<=' | '>' | '>=';
export type Condition = [string, CondOp, unknown];
export type Mutator = 'insert' | 'delete' | '+=' | '-=' | '*=' | '/=' | '%=';
export type Mutation = [string, Mutator, unknown];

export type NbOp =
  | { op: 'insert'; table: NbTable; row: Record<string, unknown>; uuidName?: string }
  | { op: 'update'; table: NbTable; where: Condition[]; row: Record<string, unknown> }
  | { op: 'mutate'; table: NbTable; where: Condition[]; mutations: Mutation[] }
  | { op: 'delete'; table: NbTable; where: Condition[] }
  | { op: 'wait'; table: NbTable; where: Condition[]; columns: string[]; until: '==' | '!='; rows: Array<Record<string, unknown>>; timeout: number };

/** Read access to the monitored NB cache, as the operations need it. */
export type NbCacheView = Cache<NBTables>;

export const byUuid = (uuid: string | NamedUuid): Condition[] => [['_uuid', '==', uuid]];
export const byName = (name: string): Condition[] => [['name', '==', name]];

let namedSeq = 0;

export class Txn {
  readonly ops: NbOp[] = [];
  private readonly pending = new Map<string, NamedUuid>();

  constructor(readonly cache: NbCacheView, readonly label = 'txn') {}

  add(op: NbOp): this {
    this.ops.push(op);
    return this;
  }

  get empty(): boolean {
    return this.ops.length === 0;
  }

  /** Inserts a row that later ops in this batch can find by (table, key). */
  insert<T extends NbTable>(table: T, key: string, row: RowInput<T>): NamedUuid {
    // Unique across batches: commit() may merge several Txns into one transaction.
    const name = `row${++namedSeq}_${table.length}`;
    void key;
    this.ops.push({ op: 'insert', table, row: row as Record<string, unknown>, uuidName: name });
    const r = ref(name);
    this.pending.set(`${table}/${key}`, r);
    return r;
  }

  /** A row inserted earlier in this batch under (table, key). */
  pendingRef(table: NbTable, key: string): NamedUuid | undefined {
    return this.pending.get(`${table}/${key}`);
  }

  update<T extends NbTable>(table: T, where: Condition[], row: RowInput<T>): this {
    return this.add({ op: 'update', table, where, row: row as Record<string, unknown> });
  }

  mutate(table: NbTable, where: Condition[], mutations: Mutation[]): this {
    return this.add({ op: 'mutate', table, where, mutations });
  }

  delete(table: NbTable, where: Condition[]): this {
    return this.add({ op: 'delete', table, where });
  }

  /** Makes the commit fail unless no row matches `where` (atomic create-if-absent for tables without a name index). */
  assertAbsent(table: NbTable, where: Condition[]): this {
    return this.add({ op: 'wait', table, where, columns: ['_uuid'], until: '==', rows: [], timeout: 0 });
  }
}

/** Stable, match-expression-safe object name ("tessera_" + 16 hex) for port groups and address sets. */
export function hashedName(prefix: string, ...parts: string[]): string {
  return `${prefix}_${createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 16)}`;
}

/** Shallow equality of two string maps. */
export function sameMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  return ka.length === kb.length && ka.every((k) => (a ?? {})[k] === (b ?? {})[k]);
}

/** Set equality of two string lists. */
export function sameSet(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const sa = new Set(a ?? []);
  const sb = new Set(b ?? []);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}
