// NB/SB reachability and Raft health as a client sees it: the _Server database says whether the member is
// clustered, connected to its cluster, and the leader (the same rows `ovn-nbctl --leader-only` relies on).
import { OvsdbClient } from '../../lib/ovsdb/index.js';
import type { DatabaseModel, TablesShape } from '../../lib/ovsdb/schema.js';
import type { DbAccess } from '../target.js';

export interface DbHealth {
  reachable: boolean;
  /** Which remote answered, or why none did. */
  detail: string;
  model?: 'standalone' | 'clustered' | 'relay' | string;
  /** Clustered only. */
  connected?: boolean;
  leader?: boolean;
}

interface ServerDatabaseRow {
  name: string;
  model: string;
  connected: boolean;
  leader: boolean;
}

/** Connects as a reader would (any member, not only the leader); a member cut off from its cluster fails here. */
export async function dbHealth<T extends TablesShape<T>>(access: DbAccess, model: DatabaseModel<T>): Promise<DbHealth> {
  const dbName = model.name;
  let c: OvsdbClient<T> | undefined;
  try {
    c = await OvsdbClient.connect(model, { remotes: access.remotes, tls: access.tls, leaderOnly: false, initialTimeoutMs: 8000, connectTimeoutMs: 4000, probeIntervalMs: 0 });
    const reply = await c.request('transact', ['_Server', { op: 'select', table: 'Database', where: [['name', '==', dbName]] }], 5000) as Array<{ rows?: ServerDatabaseRow[] }>;
    const row = reply[0]?.rows?.[0];
    if (!row) return { reachable: false, detail: `${c.remote ?? ''} does not serve ${dbName}` };
    return { reachable: true, detail: c.remote ?? access.remotes.join(','), model: row.model, ...(row.model === 'clustered' ? { connected: row.connected, leader: row.leader } : {}) };
  } catch (err) {
    return { reachable: false, detail: `${access.remotes.join(',')}: ${(err as Error).message.split('\n')[0]}` };
  } finally {
    c?.close();
  }
}
