// The _Server database (ovsdb-server's view of its own databases): whether a remote serves our
// database and, for a Raft cluster, whether this member is connected and the leader.
import { isObj } from './schema.js';

export const SERVER_DB = '_Server';
export const SERVER_MONITOR_ID = '_server';

/** monitor_cond params for the `Database` row of `dbName`. */
export function serverMonitorParams(dbName: string): unknown[] {
  return [SERVER_DB, SERVER_MONITOR_ID, { Database: [{ columns: ['name', 'model', 'connected', 'leader'], where: [['name', '==', dbName]] }] }];
}

/** The `Database` rows of one session, kept current from the monitor (all four columns are scalars, so update2 "modify" carries new values). */
export class ServerDbState {
  private readonly rows = new Map<string, Record<string, unknown>>();

  clear(): void {
    this.rows.clear();
  }

  /** The row for our database, if the server has one. */
  get row(): Record<string, unknown> | undefined {
    return [...this.rows.values()][0];
  }

  /** Applies a monitor reply or an update2 notification; returns false if our database's row was deleted. */
  apply(updates: unknown): boolean {
    const rows = isObj(updates) && isObj(updates.Database) ? updates.Database : {};
    for (const [uuid, ru] of Object.entries(rows)) {
      if (!isObj(ru)) continue;
      const prev = this.rows.get(uuid) ?? {};
      const row = isObj(ru.initial) ? ru.initial : isObj(ru.insert) ? ru.insert : isObj(ru.modify) ? { ...prev, ...ru.modify } : undefined;
      if (!row) {
        this.rows.delete(uuid);
        return false;
      }
      this.rows.set(uuid, row);
    }
    return true;
  }
}

/** Why a `Database` row makes this remote unusable, or undefined if it is fine. Standalone and relay databases always are. */
export function unusableReason(row: Record<string, unknown>, dbName: string, leaderOnly: boolean): string | undefined {
  if (row.model !== 'clustered') return undefined;
  if (row.connected !== true) return `${dbName} cluster member is not connected to the cluster`;
  if (leaderOnly && row.leader !== true) return `${dbName} cluster member is not the leader`;
  return undefined;
}
