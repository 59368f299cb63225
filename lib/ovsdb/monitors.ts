// The client's monitors: registrations (tables, columns, conditions), sending them on a session (monitor_cond,
// falling back to monitor on servers without it), loading replies into the cache by reconciling with the server's
// truth, and applying update/update2 notifications. Everything here survives reconnects: the client re-sends every
// registration on each new session.
import type { SchemaLike, TableName, TablesShape } from './schema.js';
import { isObj, tableSchema } from './schema.js';
import type { RpcSession } from './rpc.js';
import type { Cache, ChangeEvent } from './cache.js';
import { conditionToWire, matchesCondition } from './ops.js';
import { OvsdbDisconnectedError, OvsdbError, OvsdbRpcError, OvsdbTimeoutError } from './errors.js';
import type { MonitorSpec, OvsdbLogger, TableMonitor } from './client-options.js';

export interface MonitorReg {
  id: string;
  tables: Map<string, { columns?: string[]; where?: unknown[][] }>;
  /** True once the server has accepted it at least once. */
  loaded: boolean;
  waiters: { resolve(): void; reject(e: Error): void }[];
}

export class Monitors<T extends TablesShape<T>> {
  private readonly regs = new Map<string, MonitorReg>();
  private next = 1;
  /** Whether the server takes monitor_cond; reset to true on every new session. */
  cond = true;

  constructor(
    private readonly schema: SchemaLike,
    private readonly cache: Cache<T>,
    private readonly log: OvsdbLogger,
    private readonly requestTimeoutMs: number,
    private readonly emitChange: (ev: ChangeEvent<T>) => void,
  ) {}

  all(): Iterable<MonitorReg> {
    return this.regs.values();
  }

  get(id: unknown): MonitorReg | undefined {
    return typeof id === 'string' ? this.regs.get(id) : undefined;
  }

  /** Validates and registers `spec`, tracking its tables in the cache; `done` settles once the server loaded it. */
  register(spec: MonitorSpec<T>): { reg: MonitorReg; done: Promise<void> } | Error {
    const tables = new Map<string, { columns?: string[]; where?: unknown[][] }>();
    const entries: [string, TableMonitor<never> | undefined][] = Array.isArray(spec) ? spec.map((t: TableName<T>) => [t, undefined]) : (Object.entries(spec) as [string, TableMonitor<never>][]);
    for (const [t, m] of entries) {
      tableSchema(this.schema, t);
      if (this.cache.isMonitored(t) || tables.has(t)) return new OvsdbError(`monitor: table ${t} is already monitored`);
      const cols = m?.columns as string[] | undefined;
      if (cols) for (const c of cols) if (c !== '_uuid' && !this.schema.tables[t]!.columns[c]) return new OvsdbError(`monitor: table ${t} has no column ${c}`);
      const where = m?.where as unknown[][] | undefined;
      if (where) for (const c of where) conditionToWire(this.schema, t, c); // validate now, not on the wire
      tables.set(t, { columns: cols?.filter((c) => c !== '_uuid'), where });
    }
    const reg: MonitorReg = { id: `m${this.next++}`, tables, loaded: false, waiters: [] };
    for (const [t, m] of tables) this.cache.track(t, m.columns);
    this.regs.set(reg.id, reg);
    const done = new Promise<void>((resolve, reject) => reg.waiters.push({ resolve, reject }));
    return { reg, done };
  }

  drop(reg: MonitorReg, e: Error): void {
    this.regs.delete(reg.id);
    for (const t of reg.tables.keys()) this.cache.untrack(t);
    for (const w of reg.waiters.splice(0)) w.reject(e);
  }

  /** Rejects every registration's waiters (the client closed). */
  rejectWaiters(e: Error): void {
    for (const reg of this.regs.values()) for (const w of reg.waiters.splice(0)) w.reject(e);
  }

  async send(session: RpcSession, reg: MonitorReg): Promise<void> {
    // The reply is applied synchronously (onReply), before the update notifications that follow it.
    const apply = (reply: unknown): void => this.loadReply(reg, reply);
    if (this.cond) {
      const req: Record<string, unknown> = {};
      for (const [t, m] of reg.tables) {
        const r: Record<string, unknown> = {};
        if (m.columns) r.columns = m.columns;
        if (m.where) r.where = m.where.map((c) => conditionToWire(this.schema, t, c));
        req[t] = [r];
      }
      try {
        await session.request('monitor_cond', [this.schema.name, reg.id, req], this.requestTimeoutMs, apply);
      } catch (e) {
        if (!(e instanceof OvsdbRpcError) || !/unknown method/i.test(JSON.stringify(e.error))) throw e;
        this.log.info(`ovsdb ${this.schema.name}: ${session.remote} has no monitor_cond; using monitor`);
        this.cond = false;
      }
    }
    if (!this.cond) {
      const req: Record<string, unknown> = {};
      for (const [t, m] of reg.tables) req[t] = m.columns ? { columns: m.columns } : {};
      await session.request('monitor', [this.schema.name, reg.id, req], this.requestTimeoutMs, apply);
    }
    reg.loaded = true;
    for (const w of reg.waiters.splice(0)) w.resolve();
  }

  /** Sends a registration made while connected; a lost session re-sends it on reconnect, other errors drop it. */
  sendNow(session: RpcSession, reg: MonitorReg, closeSession: (e: Error) => void): void {
    this.send(session, reg).catch((e: Error) => {
      if (e instanceof OvsdbDisconnectedError || e instanceof OvsdbTimeoutError) {
        closeSession(e); // resent on reconnect; the waiter resolves then
        return;
      }
      this.drop(reg, e);
    });
  }

  /** Reconciles each table with the server's truth; the first time, every row is an insert. */
  private loadReply(reg: MonitorReg, reply: unknown): void {
    const updates = isObj(reply) ? reply : {};
    for (const t of reg.tables.keys()) {
      const fresh = new Map<string, Record<string, unknown> & { _uuid: string }>();
      const rows = isObj(updates[t]) ? updates[t] : {};
      for (const [uuid, ru] of Object.entries(rows)) {
        if (!isObj(ru)) continue;
        const w = this.cond ? (ru.initial ?? ru.insert) : ru.new;
        if (w === undefined || w === null) continue;
        const row = this.cache.fullRow(t, uuid, w);
        if (!this.cond && !this.passesWhere(t, row)) continue;
        fresh.set(uuid, row);
      }
      for (const ev of this.cache.reconcile(t, fresh)) this.emitChange(ev);
    }
  }

  private passesWhere(table: string, row: Record<string, unknown>): boolean {
    for (const reg of this.regs.values()) {
      const m = reg.tables.get(table);
      if (m?.where) return m.where.every((c) => matchesCondition(this.schema, table, row, c));
    }
    return true;
  }

  /** Applies an update/update2 notification of monitor `id` to the cache. Throws on a malformed update. */
  applyNotification(method: 'update' | 'update2', id: unknown, updates: unknown): void {
    const reg = this.get(id);
    if (!reg || !isObj(updates)) return;
    for (const [t, rows] of Object.entries(updates)) {
      if (!reg.tables.has(t) || !isObj(rows)) continue;
      for (const [uuid, ru] of Object.entries(rows)) {
        let ev: ChangeEvent<T> | undefined;
        if (method === 'update2') ev = this.cache.applyUpdate2(t, uuid, ru);
        else {
          ev = this.cache.applyUpdate(t, uuid, ru);
          if (ev && ev.kind !== 'delete' && !this.passesWhere(t, ev.row as unknown as Record<string, unknown>)) ev = this.cache.applyUpdate(t, uuid, {});
        }
        if (ev) this.emitChange(ev);
      }
    }
  }
}
