// The one place where a Txn becomes OVSDB operations on the wire; nothing else in Tessera builds raw NB
// operations (test/unit/ovn/no-raw-nb-ops.test.ts enforces it). Txns committed in the same event-loop turn are merged into one transaction (a
// 1,000-pod burst then costs tens of NB transactions, not a thousand); if a merged transaction fails,
// its Txns are retried one by one so a single bad batch member cannot fail the others.
import { op as opFor, type Op } from '../ovsdb/ops.js';
import { NB_MODEL, type NBTables } from '../ovsdb/models/nb.js';
import type { Cache } from '../ovsdb/cache.js';
import type { NbOp, Txn } from './txn.js';

/** What a writer needs of an OVSDB client connected to NB (lib/ovsdb OvsdbClient fits). */
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

export const txnStats = { transactions: 0, operations: 0, batches: 0, batchFallbacks: 0 };

/** Upper bound of operations merged into one transaction. */
export const MAX_BATCH_OPS = 1000;

interface Pending {
  txn: Txn;
  resolve: () => void;
  reject: (err: unknown) => void;
}

class Batcher {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly nb: NbClient, private readonly timeoutMs: number) {}

  submit(txn: Txn): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ txn, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length) {
      const batch: Pending[] = [];
      let ops = 0;
      while (this.queue.length && (batch.length === 0 || ops + this.queue[0].txn.ops.length <= MAX_BATCH_OPS)) {
        const p = this.queue.shift()!;
        ops += p.txn.ops.length;
        batch.push(p);
      }
      void this.send(batch);
    }
  }

  private async one(p: Pending): Promise<void> {
    txnStats.transactions++;
    txnStats.operations += p.txn.ops.length;
    try {
      await this.nb.transact(toOps(p.txn.ops), { timeoutMs: this.timeoutMs });
      p.resolve();
    } catch (err) {
      p.reject(err);
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    if (batch.length === 1) return this.one(batch[0]);
    txnStats.transactions++;
    txnStats.batches++;
    const all = batch.flatMap((p) => p.txn.ops);
    txnStats.operations += all.length;
    try {
      await this.nb.transact(toOps(all), { timeoutMs: this.timeoutMs });
      for (const p of batch) p.resolve();
    } catch {
      // Find the member that failed: each gets its own transaction and its own error.
      txnStats.batchFallbacks++;
      await Promise.all(batch.map((p) => this.one(p)));
    }
  }
}

const batchers = new WeakMap<NbClient, Batcher>();

/** Commits the batch (merged with others committed in the same turn); a no-op when empty. */
export async function commit(nb: NbClient, txn: Txn, timeoutMs = 30_000): Promise<void> {
  if (txn.empty) return;
  let bt = batchers.get(nb);
  if (!bt) batchers.set(nb, (bt = new Batcher(nb, timeoutMs)));
  await bt.submit(txn);
}

/**
 * Sends the batch as one transaction of its own, now (no merging with others), for writers whose retry logic reads
 * the failing operation (e.g. a gateway losing a join-IP race on its `wait`). Returns the operations sent.
 */
export async function commitAlone(nb: NbClient, txn: Txn, timeoutMs?: number): Promise<number> {
  if (txn.empty) return 0;
  txnStats.transactions++;
  txnStats.operations += txn.ops.length;
  await nb.transact(toOps(txn.ops), timeoutMs === undefined ? undefined : { timeoutMs });
  return txn.ops.length;
}
