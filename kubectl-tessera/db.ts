// Short-lived OVSDB reads for a command: connect (any member, leader or not: reads are fine anywhere), select
// whole tables, close.
import { OvsdbClient } from '../lib/ovsdb/index.js';
import type { DatabaseModel, TableName, TablesShape } from '../lib/ovsdb/schema.js';
import { NB_MODEL, type NBTables } from '../lib/ovsdb/models/nb.js';
import { SB_MODEL, type SBTables } from '../lib/ovsdb/models/sb.js';
import type { DbAccess } from './target.js';

export interface Db<T extends TablesShape<T>> {
  client: OvsdbClient<T>;
  /** Every row of `table`. */
  rows<K extends TableName<T>>(table: K): Promise<T[K][]>;
  close(): void;
}

export async function openDb<T extends TablesShape<T>>(model: DatabaseModel<T>, access: DbAccess, timeoutMs = 10_000): Promise<Db<T>> {
  const client = await OvsdbClient.connect(model, {
    remotes: access.remotes, tls: access.tls, leaderOnly: false, initialTimeoutMs: timeoutMs, connectTimeoutMs: Math.min(timeoutMs, 5000),
    requestTimeoutMs: timeoutMs, probeIntervalMs: 0,
  });
  return {
    client,
    rows: async (table) => {
      const [r] = await client.transact([client.op.select(table, [])]);
      return r.rows;
    },
    close: () => client.close(),
  };
}

export const openNb = (a: DbAccess, timeoutMs?: number): Promise<Db<NBTables>> => openDb(NB_MODEL, a, timeoutMs);
export const openSb = (a: DbAccess, timeoutMs?: number): Promise<Db<SBTables>> => openDb(SB_MODEL, a, timeoutMs);
