// Drift repair: a change by someone else to a row we own (deleted, a column edited, owner ids stripped)
// puts the row's owner on a rate-limited queue whose handler runs that owner's normal reconcile. It is
// generic over owners: a component maps a row's external_ids to "<kind> <object>" and names, per kind, a
// reconcile to run and the object a user looks at. A new row kind that carries owner ids is repaired
// without further code. Our own writes are told apart by OwnWrites; a reconcile that writes nothing is
// no repair (nothing is logged, nothing is counted), so an echo or a harmless change cannot loop.
import type { Logger } from '../log.js';
import { WorkQueue } from '../workqueue.js';
import { KeyBackoff, TokenBucket, type KeyBackoffOptions } from '../rate-limit.js';
import type { OwnWrites } from './own-writes.js';

export const DRIFT_REPAIRED = 'NBDriftRepaired';
export const DRIFT_FIGHTING = 'NBDriftFighting';

/** One changed row, as a monitor reports it (lib/ovsdb ChangeEvent fits). */
export interface RowChange {
  table: string;
  kind: 'insert' | 'update' | 'delete';
  row: object;
  old?: object;
}

export interface DriftTarget<R> {
  /** Runs the owner's reconcile; resolves when it is done (true: it succeeded). */
  sync(object: string): Promise<boolean>;
  /** The object a user looks at for Events, if there is one. */
  ref?(object: string): R | undefined;
}

export interface DriftOptions<R> {
  /** "<kind> <object>" of a row's owner ids, if ours. */
  ownerOf(ids: Record<string, string> | undefined): string | undefined;
  targets: Record<string, DriftTarget<R>>;
  own: OwnWrites;
  log: Logger;
  event?(ref: R, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
  /** Runs after each repair sync (e.g. what depends on a restored row's new uuid). */
  afterRepair?(kind: string, object: string): Promise<void> | void;
  /** Repairs started per second over all owners (default 20, burst 50). */
  perSecond?: number;
  burst?: number;
  /** Per owner: repairs in a row back off exponentially (default 1 s doubling to 5 min; 30 s quiet resets). */
  backoff?: KeyBackoffOptions;
  /** Repairs in a row from which the owner counts as fought over (default 3). */
  fightAfter?: number;
}

const shown = (v: unknown): string => {
  const s = JSON.stringify(v) ?? 'null';
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
};

/**
 * What identifies a row across a delete and its restore (a restored row has a new uuid): its name, else the
 * columns that make nameless rows distinct (an ACL's match, a route's prefix, a NAT's logical IP).
 */
export function rowIdentity(table: string, row: object): string {
  const r = row as Record<string, unknown>;
  for (const c of ['name', 'match', 'ip_prefix', 'logical_ip', 'chassis_name']) {
    if (typeof r[c] === 'string' && r[c]) return `${table} ${String(r[c])}${c === 'match' ? ` ${String(r.direction)} ${String(r.priority)}` : ''}`;
  }
  return `${table} ${String(r._uuid ?? '')}`;
}

/** "Logical_Switch_Port default_web: deleted" / "...: addresses [...] -> [...]". */
export function describeChange(ev: RowChange): string {
  const row = ev.row as Record<string, unknown>;
  const name = typeof row.name === 'string' && row.name ? row.name : rowIdentity(ev.table, ev.row).slice(ev.table.length + 1, ev.table.length + 61);
  if (ev.kind !== 'update' || !ev.old) return `${ev.table} ${name}: ${ev.kind === 'delete' ? 'deleted' : 'inserted'}`;
  const old = ev.old as Record<string, unknown>;
  const cols = Object.keys({ ...old, ...row }).filter((c) => c !== '_uuid' && JSON.stringify(old[c]) !== JSON.stringify(row[c]));
  return `${ev.table} ${name}: ${cols.map((c) => `${c} ${shown(old[c])} -> ${shown(row[c])}`).join(', ') || 'rewritten'}`;
}

export class DriftRepair<R> {
  readonly queue: WorkQueue;
  private readonly bucket: TokenBucket;
  private readonly backoff: KeyBackoff;
  /** Per owner: the changes seen since its last repair (row identity → description). */
  private readonly pending = new Map<string, Map<string, string>>();
  repairs = 0;
  fights = 0;

  constructor(private readonly o: DriftOptions<R>) {
    this.bucket = new TokenBucket(o.perSecond ?? 20, o.burst ?? 50);
    this.backoff = new KeyBackoff(o.backoff ?? { baseMs: 1000, maxMs: 300_000, quietMs: 30_000 });
    this.queue = new WorkQueue((k) => this.repair(k), {
      name: 'drift',
      workers: 4,
      onError: (k, err) => o.log.warn(`drift repair of ${k} failed: ${err instanceof Error ? err.message : String(err)}`),
    });
  }

  /** Feed every monitor change here; changes to rows we do not own, or that are our own writes, are ignored. */
  observe(ev: RowChange): void {
    const ids = (r: object | undefined) => (r as { external_ids?: Record<string, string> } | undefined)?.external_ids;
    const owner = this.o.ownerOf(ids(ev.old)) ?? this.o.ownerOf(ids(ev.row));
    if (!owner || this.o.own.inFlight(owner)) return;
    const kind = owner.split(' ', 1)[0]!;
    if (!this.o.targets[kind]) return;
    const row = `${owner}|${rowIdentity(ev.table, ev.old ?? ev.row)}`;
    const seen = this.pending.get(owner) ?? new Map<string, string>();
    if (seen.size < 20) seen.set(row, describeChange(ev));
    this.pending.set(owner, seen);
    this.queue.addAfter(owner, Math.max(this.bucket.take(), this.backoff.nextDelay(row)));
  }

  stop(): void {
    this.queue.shutdown();
  }

  private async repair(owner: string): Promise<void> {
    const sep = owner.indexOf(' ');
    const kind = owner.slice(0, sep);
    const object = owner.slice(sep + 1);
    const target = this.o.targets[kind]!;
    const seen = this.pending.get(owner) ?? new Map<string, string>();
    this.pending.delete(owner);
    const changes = [...seen.values()].slice(0, 5);
    const before = this.o.own.commits(owner);
    const t0 = Date.now();
    const ok = await target.sync(object);
    if (this.o.own.commits(owner) === before) {
      if (!ok) this.o.log.warn(`NB drift on ${owner} (${changes.join('; ')}): its reconcile failed; its own queue retries it`);
      return; // nothing differed from what the owner wants: no repair
    }
    this.repairs++;
    await this.o.afterRepair?.(kind, object);
    // Backoff and fighting count per row: repairs of different rows of one object are no fight.
    let streak = 0;
    let next = 0;
    for (const row of seen.keys()) {
      streak = Math.max(streak, this.backoff.hit(row).streak);
      next = Math.max(next, this.backoff.nextDelay(row));
    }
    const what = changes.join('; ') || 'rows changed';
    this.o.log.info(`NB drift repaired: ${owner} in ${Date.now() - t0} ms; another writer changed: ${what}`, { owner, repairMs: Date.now() - t0 });
    const ref = target.ref?.(object);
    if (ref) await this.o.event?.(ref, 'Normal', DRIFT_REPAIRED, `OVN Northbound rows of this object were changed by another writer and restored: ${what}`).catch(() => undefined);
    if (streak < (this.o.fightAfter ?? 3)) return;
    this.fights++;
    const msg = `another writer keeps changing OVN Northbound rows of ${owner} (${streak} repairs in a row, last: ${what}); ` +
      `repairs back off (next after ${Math.round(next / 1000)} s). Find and stop the other writer.`;
    this.o.log.warn(msg, { owner, streak, nextDelayMs: next });
    if (ref) await this.o.event?.(ref, 'Warning', DRIFT_FIGHTING, msg).catch(() => undefined);
  }
}
