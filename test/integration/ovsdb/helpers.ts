// Shared helpers for the ovsdb integration tests: compare a client's cache with the server's truth.
import assert from 'node:assert/strict';
import type { OvsdbClient, ChangeEvent } from '../../../lib/ovsdb/index.js';
import type { NBTables } from '../../../lib/ovsdb/models/nb.js';

type Row = Record<string, unknown>;

/** Sorts set values so rows compare independently of element order. */
export function norm(row: object): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = Array.isArray(v) ? [...(v as unknown[])].map(String).sort() : v;
  return out;
}

export function byUuid(rows: object[]): Row[] {
  return rows.map(norm).sort((a, b) => String(a._uuid).localeCompare(String(b._uuid)));
}

/** Asserts that `cacheOf`'s cache of each table equals a fresh select through `reader`. */
export async function assertCacheMatchesServer(cacheOf: OvsdbClient<NBTables>, reader: OvsdbClient<NBTables>, tables: ('Logical_Switch' | 'Logical_Switch_Port')[]): Promise<void> {
  for (const t of tables) {
    const [sel] = await reader.transact([reader.op.select(t, [])]);
    assert.deepEqual(byUuid(cacheOf.cache.list(t)), byUuid(sel.rows), `cache of ${t} differs from the server`);
  }
}

/** Rebuilds table state purely from change events: proves consumers of events miss nothing. */
export class EventMirror {
  readonly tables = new Map<string, Map<string, object>>();
  readonly events: ChangeEvent<NBTables>[] = [];
  constructor(client: OvsdbClient<NBTables>) {
    client.on('change', (ev) => {
      this.events.push(ev);
      let t = this.tables.get(ev.table);
      if (!t) this.tables.set(ev.table, (t = new Map()));
      if (ev.kind === 'delete') {
        assert.ok(t.has(ev.row._uuid), `delete event for unknown ${ev.table} row ${ev.row._uuid}`);
        t.delete(ev.row._uuid);
      } else {
        if (ev.kind === 'insert') assert.ok(!t.has(ev.row._uuid), `insert event for known ${ev.table} row ${ev.row._uuid}`);
        else assert.ok(t.has(ev.row._uuid), `update event for unknown ${ev.table} row ${ev.row._uuid}`);
        t.set(ev.row._uuid, ev.row);
      }
    });
  }
  list(table: string): object[] {
    return [...(this.tables.get(table)?.values() ?? [])];
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 20 ms up to `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
