// Which owners a process is writing right now. ovsdb-server sends a transaction's monitor updates before
// its reply, so a change to a row whose owner has a transaction of ours in flight is our own write coming
// back, and any other change to an owned row is someone else's. Owners are what `OwnerOf` makes of a
// row's external_ids (e.g. "pod default/web"); any row kind that carries owner ids is covered.
import type { Op } from '../ovsdb/ops.js';

export type OwnerOf = (ids: Record<string, string> | undefined) => string | undefined;

/** The reads this needs of an OVSDB cache (lib/ovsdb Cache fits). */
export interface RowSource {
  monitoredTables(): string[];
  get(table: never, uuid: string): unknown;
  lookup(table: never, column: never, value: never): unknown;
}

/** A client that commits operations (lib/ovsdb OvsdbClient and the watcher's NbClient fit). */
export interface Transactor {
  transact(ops: Op[], opts?: { timeoutMs?: number }): Promise<unknown>;
}

type Wire = unknown;
const isArr = Array.isArray;

/** A wire map ["map", [[k, v], ...]] (or a plain object) as a string map. */
function wireMap(v: Wire): Record<string, string> | undefined {
  if (isArr(v) && v[0] === 'map' && isArr(v[1])) {
    const out: Record<string, string> = {};
    for (const p of v[1] as unknown[]) if (isArr(p) && typeof p[0] === 'string') out[p[0]] = String(p[1]);
    return out;
  }
  if (v && typeof v === 'object' && !isArr(v)) return v as Record<string, string>;
  return undefined;
}

/** Every ["uuid", x] atom in a wire value. */
function uuidsIn(v: Wire, out: string[]): string[] {
  if (!isArr(v)) return out;
  if (v.length === 2 && v[0] === 'uuid' && typeof v[1] === 'string') out.push(v[1]);
  else for (const e of v) uuidsIn(e, out);
  return out;
}

export class OwnWrites {
  private readonly inflight = new Map<string, number>();
  private readonly committed = new Map<string, number>();

  constructor(private readonly ownerOf: OwnerOf, private readonly rows: RowSource) {}

  /** The same client, with every transaction attributed to the owners of the rows it writes. */
  wrap<C extends Transactor>(client: C): C {
    const transact = async (ops: Op[], opts?: { timeoutMs?: number }): Promise<unknown> => {
      const owners = this.ownersOf(ops);
      for (const o of owners) this.inflight.set(o, (this.inflight.get(o) ?? 0) + 1);
      try {
        const r = await client.transact(ops, opts);
        for (const o of owners) this.committed.set(o, (this.committed.get(o) ?? 0) + 1);
        return r;
      } finally {
        for (const o of owners) {
          const n = (this.inflight.get(o) ?? 1) - 1;
          if (n > 0) this.inflight.set(o, n);
          else this.inflight.delete(o);
        }
      }
    };
    return new Proxy(client, { get: (t, p, r) => (p === 'transact' ? transact : Reflect.get(t, p, r)) });
  }

  /** True while a transaction of ours that writes this owner's rows waits for its reply. */
  inFlight(owner: string): boolean {
    return this.inflight.has(owner);
  }

  /** How many of our transactions that wrote this owner's rows have committed (compare before/after a sync). */
  commits(owner: string): number {
    return this.committed.get(owner) ?? 0;
  }

  /** Owners of the rows that the operations insert, update, mutate or delete (a mutation's deleted references included). */
  ownersOf(ops: readonly Op[]): Set<string> {
    const out = new Set<string>();
    const add = (ids: Record<string, string> | undefined) => {
      const o = this.ownerOf(ids);
      if (o) out.add(o);
    };
    for (const { wire } of ops) {
      const table = typeof wire.table === 'string' ? wire.table : undefined;
      if (!table) continue;
      if (wire.row && typeof wire.row === 'object') add(wireMap((wire.row as Record<string, Wire>).external_ids));
      const uuids: string[] = [];
      for (const c of (isArr(wire.where) ? wire.where : []) as Wire[]) {
        if (!isArr(c)) continue;
        if (c[0] === 'name' && c[1] === '==' && typeof c[2] === 'string') add(this.idsOf(this.rows.lookup(table as never, 'name' as never, c[2] as never)));
        uuidsIn(c, uuids);
      }
      for (const m of (isArr(wire.mutations) ? wire.mutations : []) as Wire[]) if (isArr(m) && m[1] === 'delete') uuidsIn(m[2], uuids);
      for (const u of uuids) add(this.idsOf(this.findUuid(table, u)));
    }
    return out;
  }

  private findUuid(table: string, uuid: string): unknown {
    const r = this.rows.get(table as never, uuid);
    if (r) return r;
    for (const t of this.rows.monitoredTables()) {
      const x = t === table ? undefined : this.rows.get(t as never, uuid);
      if (x) return x;
    }
    return undefined;
  }

  private idsOf(row: unknown): Record<string, string> | undefined {
    return (row as { external_ids?: Record<string, string> } | undefined)?.external_ids;
  }
}
