// The one place where a Txn becomes OVSDB operations on the wire; nothing else in the watcher builds
// raw transactions. Counts transactions so the bench can report NB transactions per pod.
import { op as opFor, type Op } from '../../lib/ovsdb/ops.js';
import { NB_MODEL, type NBTables } from '../../lib/ovsdb/models/nb.js';
import type { Cache } from '../../lib/ovsdb/cache.js';
import type { NbOp, Txn } from './txn.js';

/** What the watcher needs of an OVSDB client connected to NB (lib/ovsdb OvsdbClient fits). */
export interface NbClient {
  readonly cache: Cache<NBTables>;
  transact(ops: Op[], opts?: { timeoutMs?: number }): Promise<unknown>;
}

const b = opFor(NB_MODEL);

/** Wire ops, loosely typed on purpose: Txn already typed the rows against the model. */
export function toOps(ops: readonly NbOp[]): Op[] {
  const u = b as unknown as {
    insert(t: string, r: object, n?: string): Op;
    update(t: string, w: unknown[], r: object): Op;
    mutate(t: string, w: unknown[], m: unknown[]): Op;
    delete(t: string, w: unknown[]): Op;
    wait(t: string, w: unknown[], c: string[], until: string, rows: object[], timeout?: number): Op;
  };
  return ops.map((o) => {
    switch (o.op) {
      case 'insert':
        return u.insert(o.table, o.row, o.uuidName);
      case 'update':
        return u.update(o.table, o.where, o.row);
      case 'mutate':
        return u.mutate(o.table, o.where, o.mutations);
      case 'delete':
        return u.delete(o.table, o.where);
      case 'wait':
        return u.wait(o.table, o.where, o.columns, o.until, o.rows, o.timeout);
    }
  });
}

export const txnStats = { transactions: 0, operations: 0 };

/** Commits the batch as one transaction (no-op when empty). */
export async function commit(nb: NbClient, txn: Txn, timeoutMs = 30_000): Promise<void> {
  if (txn.empty) return;
  txnStats.transactions++;
  txnStats.operations += txn.ops.length;
  await nb.transact(toOps(txn.ops), { timeoutMs });
}
