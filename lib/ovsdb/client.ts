// The OVSDB client: a list of remotes tried in turn (preferring the Raft leader, via the
// _Server database), transact, monitor_cond (falling back to monitor) into a typed cache,
// reconnect with exponential backoff and resync of the cache with synthetic change events.
import { EventEmitter } from 'node:events';
import { type DatabaseModel, type SchemaLike, type TableName, type TablesShape, isObj, tableSchema } from './schema.js';
import { type Remote, type TlsOptions, openStream, parseRemotes } from './remote.js';
import { RpcSession } from './rpc.js';
import { Cache, type ChangeEvent } from './cache.js';
import { type Condition, type Op, type OpBuilder, type ResultsOf, conditionToWire, lockId, matchesCondition, op as opBuilder } from './ops.js';
import { SERVER_MONITOR_ID, ServerDbState, serverMonitorParams, unusableReason } from './server-db.js';
import { OvsdbDisconnectedError, OvsdbError, OvsdbRpcError, OvsdbTimeoutError, OvsdbTransactionError } from './errors.js';

/** The subset of a winston logger the client uses. */
export interface OvsdbLogger {
  debug(msg: string): unknown;
  info(msg: string): unknown;
  warn(msg: string): unknown;
  error(msg: string): unknown;
}

export interface ClientOptions {
  /** `unix:PATH`, `tcp:HOST:PORT`, `ssl:HOST:PORT`; an array or a comma list. Tried in turn. */
  remotes: string[] | string;
  /** For clustered databases, only stay on the Raft leader (default true). Ignored for standalone databases. */
  leaderOnly?: boolean;
  /** Send an echo after this much silence and drop the connection after as much again (default 5000; 0 = off). */
  probeIntervalMs?: number;
  /** Key, certificate and CA (PEM text or file paths) for ssl: remotes. */
  tls?: TlsOptions;
  /** Reconnect backoff: doubles from minMs to maxMs after each round of failed remotes (defaults 200 / 8000). */
  reconnect?: { minMs?: number; maxMs?: number };
  /** Per attempt: TCP/TLS connect and the first exchanges (default 5000). */
  connectTimeoutMs?: number;
  /** How long `connect()` keeps trying before it rejects (default 30000). */
  initialTimeoutMs?: number;
  /** Default timeout of transact and other requests (default 30000). */
  requestTimeoutMs?: number;
  logger?: OvsdbLogger;
}

export interface TableMonitor<R> {
  columns?: (keyof R & string)[];
  where?: Condition<R>[];
}

export type MonitorSpec<T extends TablesShape<T>> = TableName<T>[] | { [K in TableName<T>]?: TableMonitor<T[K]> };

interface MonitorReg {
  id: string;
  tables: Map<string, { columns?: string[]; where?: unknown[][] }>;
  /** True once the server has accepted it at least once. */
  loaded: boolean;
  waiters: { resolve(): void; reject(e: Error): void }[];
}

type State = 'connecting' | 'connected' | 'closed';


const silent: OvsdbLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export interface OvsdbClient<T extends TablesShape<T>> {
  on(event: 'change', listener: (ev: ChangeEvent<T>) => void): this;
  on(event: 'connected', listener: (remote: string) => void): this;
  on(event: 'disconnected', listener: (reason: Error) => void): this;
  on(event: 'resynced', listener: (remote: string) => void): this;
  on(event: 'locked' | 'stolen', listener: (lock: string) => void): this;
  on(event: 'closed', listener: () => void): this;
  once(event: 'change', listener: (ev: ChangeEvent<T>) => void): this;
  once(event: 'connected', listener: (remote: string) => void): this;
  once(event: 'disconnected', listener: (reason: Error) => void): this;
  once(event: 'resynced', listener: (remote: string) => void): this;
  once(event: 'locked' | 'stolen', listener: (lock: string) => void): this;
  once(event: 'closed', listener: () => void): this;
}

export class OvsdbClient<T extends TablesShape<T>> extends EventEmitter {
  readonly cache: Cache<T>;
  /** Operation builders bound to this client's model. */
  readonly op: OpBuilder<T>;
  private readonly schema: SchemaLike;
  private readonly remotes: Remote[];
  private readonly log: OvsdbLogger;
  private readonly opts: Required<Omit<ClientOptions, 'tls' | 'logger' | 'remotes' | 'reconnect'>> & { minMs: number; maxMs: number };
  private session: RpcSession | undefined;
  private state: State = 'connecting';
  /** The session passed the _Server check: requests may use it even while monitors are still resyncing. */
  private sessionReady = false;
  private readonly serverDb = new ServerDbState();
  private remoteIdx = 0;
  private everConnected = false;
  private readonly monitors = new Map<string, MonitorReg>();
  private nextMonitor = 1;
  private monitorCond = true;
  private loop: Promise<void> | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private wakeSleep: (() => void) | undefined;

  private constructor(
    readonly model: DatabaseModel<T>,
    private readonly options: ClientOptions,
  ) {
    super();
    this.schema = model as unknown as SchemaLike;
    this.remotes = parseRemotes(options.remotes);
    if (this.remotes.some((r) => r.kind === 'ssl') && !options.tls) throw new Error('ssl: remotes need the tls option {key, cert, ca}');
    this.log = options.logger ?? silent;
    this.opts = {
      leaderOnly: options.leaderOnly ?? true,
      probeIntervalMs: options.probeIntervalMs ?? 5000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      initialTimeoutMs: options.initialTimeoutMs ?? 30000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30000,
      minMs: options.reconnect?.minMs ?? 200,
      maxMs: options.reconnect?.maxMs ?? 8000,
    };
    this.cache = new Cache<T>(this.schema);
    this.op = opBuilder(model);
  }

  /** Connects to the first usable remote; rejects if none is usable within `initialTimeoutMs`. */
  static async connect<T extends TablesShape<T>>(model: DatabaseModel<T>, options: ClientOptions): Promise<OvsdbClient<T>> {
    const c = new OvsdbClient(model, options);
    await c.start();
    return c;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** The remote currently in use, if connected. */
  get remote(): string | undefined {
    return this.state === 'connected' ? this.session?.remote : undefined;
  }

  // ---- connection management ----

  private start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const errors = new Map<string, string>();
      const timer = setTimeout(() => {
        this.close();
        const detail = [...errors].map(([r, e]) => `${r}: ${e}`).join('; ');
        reject(new OvsdbDisconnectedError(`${this.schema.name}: no usable remote within ${this.opts.initialTimeoutMs} ms${detail ? ' (' + detail + ')' : ''}`));
      }, this.opts.initialTimeoutMs);
      const onConnected = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connected', onConnected);
      this.loop = this.connectLoop(errors);
    });
  }

  private async connectLoop(errors?: Map<string, string>): Promise<void> {
    let backoff = this.opts.minMs;
    while (this.state === 'connecting') {
      for (let i = 0; i < this.remotes.length && this.state === 'connecting'; i++) {
        const remote = this.remotes[this.remoteIdx]!;
        try {
          await this.establish(remote);
          return;
        } catch (e) {
          const msg = (e as Error).message;
          errors?.set(remote.text, msg);
          this.log.debug(`ovsdb ${this.schema.name}: ${remote.text} not usable: ${msg}`);
          this.remoteIdx = (this.remoteIdx + 1) % this.remotes.length;
        }
      }
      if (this.state !== 'connecting') return;
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, this.opts.maxMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeSleep = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    });
  }

  private async establish(remote: Remote): Promise<void> {
    const sock = await openStream(remote, this.options.tls, this.opts.connectTimeoutMs);
    if (this.state !== 'connecting') {
      sock.destroy();
      throw new OvsdbDisconnectedError('client closed');
    }
    const session: RpcSession = new RpcSession(
      sock,
      remote.text,
      {
        notification: (method, params) => this.onNotification(session, method, params),
        closed: (reason) => this.onSessionClosed(session, reason),
      },
      this.opts.probeIntervalMs,
    );
    // Current from the start, so notifications (of _Server and of each monitor) are applied as they come.
    this.session = session;
    this.sessionReady = false;
    this.serverDb.clear();
    try {
      await this.checkServer(session);
      this.monitorCond = true;
      // Change handlers run during the resync below and may want to write.
      this.sessionReady = true;
      for (const reg of this.monitors.values()) await this.sendMonitor(session, reg);
    } catch (e) {
      if (this.session === session) this.session = undefined;
      this.sessionReady = false;
      session.close(e as Error);
      throw e;
    }
    if (session.isClosed) throw new OvsdbDisconnectedError(`${remote.text}: connection lost during set-up`);
    const resync = this.everConnected;
    this.everConnected = true;
    this.state = 'connected';
    this.log.info(`ovsdb ${this.schema.name}: connected to ${remote.text}`);
    this.emitSafe('connected', remote.text);
    if (resync) this.emitSafe('resynced', remote.text);
  }

  /** Checks via _Server that the database is served here and, when clustered, connected (and leader if leaderOnly). */
  private async checkServer(session: RpcSession): Promise<void> {
    try {
      // Applied synchronously, so a leadership change right after the reply is judged on the full row.
      await session.request('monitor_cond', serverMonitorParams(this.schema.name), this.opts.connectTimeoutMs, (r) => this.serverDb.apply(r));
    } catch (e) {
      if (e instanceof OvsdbRpcError) {
        // Servers without _Server (or without monitor_cond) cannot be clustered: nothing to check.
        this.log.debug(`ovsdb ${this.schema.name}: ${session.remote}: no _Server check (${e.message})`);
        return;
      }
      throw e;
    }
    const row = this.serverDb.row;
    if (!row) throw new OvsdbError(`${session.remote} does not serve database ${this.schema.name}`);
    const why = unusableReason(row, this.schema.name, this.opts.leaderOnly);
    if (why) throw new OvsdbError(`${session.remote}: ${why}`);
  }

  private onSessionClosed(session: RpcSession, reason: Error): void {
    if (session !== this.session) return;
    this.session = undefined;
    this.sessionReady = false;
    if (this.state !== 'connected') return; // set-up failure: the connect loop handles it
    this.state = 'connecting';
    this.log.warn(`ovsdb ${this.schema.name}: disconnected: ${reason.message}`);
    this.remoteIdx = (this.remoteIdx + 1) % this.remotes.length;
    this.emitSafe('disconnected', reason);
    this.loop = this.connectLoop();
  }

  /** Closes the connection for good; pending requests and waiters reject. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wakeSleep?.();
    const s = this.session;
    this.session = undefined;
    s?.close(new OvsdbDisconnectedError('client closed'));
    for (const reg of this.monitors.values()) for (const w of reg.waiters.splice(0)) w.reject(new OvsdbDisconnectedError('client closed'));
    this.emitSafe('closed');
  }

  // ---- requests ----

  private current(what: string): RpcSession {
    if (this.state === 'closed') throw new OvsdbDisconnectedError(`${what}: client closed`);
    if (!this.session || (this.state !== 'connected' && !this.sessionReady)) throw new OvsdbDisconnectedError(`${what}: not connected to ${this.schema.name}`);
    return this.session;
  }

  /** Any JSON-RPC method (e.g. list_dbs, get_schema, lock). */
  async request(method: string, params: unknown[], timeoutMs = this.opts.requestTimeoutMs): Promise<unknown> {
    return this.current(method).request(method, params, timeoutMs);
  }

  async echo(): Promise<void> {
    await this.request('echo', ['ping']);
  }

  /** Takes (or queues for) a named lock; resolves to whether it is held now. */
  async lock(id: string): Promise<boolean> {
    const r = await this.request('lock', [lockId(id)]);
    return isObj(r) && r.locked === true;
  }

  async steal(id: string): Promise<void> {
    await this.request('steal', [lockId(id)]);
  }

  async unlock(id: string): Promise<void> {
    await this.request('unlock', [lockId(id)]);
  }

  /**
   * Runs the operations as one transaction. Returns one result per op (insert → {uuid},
   * select → {rows}, update/mutate/delete → {count}). Throws OvsdbTransactionError if any op
   * or the commit failed (then nothing was applied), OvsdbDisconnectedError when not connected.
   */
  async transact<const O extends readonly Op[]>(ops: O, opts: { timeoutMs?: number } = {}): Promise<ResultsOf<O>> {
    if (ops.length === 0) return [] as unknown as ResultsOf<O>;
    const session = this.current('transact');
    const raw = await session.request('transact', [this.schema.name, ...ops.map((o) => o.wire)], opts.timeoutMs ?? this.opts.requestTimeoutMs);
    if (!Array.isArray(raw)) throw new OvsdbError(`transact: server returned ${JSON.stringify(raw)} instead of a result array`);
    for (let i = 0; i < raw.length; i++) {
      const r = raw[i] as unknown;
      if (isObj(r) && r.error !== undefined && r.error !== null) {
        const o = i < ops.length ? ops[i]!.wire : undefined;
        throw new OvsdbTransactionError(i < ops.length ? i : -1, o?.op as string | undefined, o?.table as string | undefined, String(r.error), r.details === undefined ? undefined : String(r.details));
      }
    }
    if (raw.length < ops.length) throw new OvsdbError(`transact: server returned ${raw.length} results for ${ops.length} ops`);
    return ops.map((o, i) => o.decode(isObj(raw[i]) ? (raw[i] as Record<string, unknown>) : {})) as ResultsOf<O>;
  }

  // ---- monitors and cache ----

  /**
   * Monitors tables into `cache`; resolves once their current rows are loaded (emitting
   * 'insert' change events for them). Survives reconnects: re-sent and reconciled each time.
   */
  monitor(spec: MonitorSpec<T>): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new OvsdbDisconnectedError('monitor: client closed'));
    const tables = new Map<string, { columns?: string[]; where?: unknown[][] }>();
    const entries: [string, TableMonitor<never> | undefined][] = Array.isArray(spec) ? spec.map((t) => [t, undefined]) : (Object.entries(spec) as [string, TableMonitor<never>][]);
    for (const [t, m] of entries) {
      tableSchema(this.schema, t);
      if (this.cache.isMonitored(t) || tables.has(t)) return Promise.reject(new OvsdbError(`monitor: table ${t} is already monitored`));
      const cols = m?.columns as string[] | undefined;
      if (cols) for (const c of cols) if (c !== '_uuid' && !this.schema.tables[t]!.columns[c]) return Promise.reject(new OvsdbError(`monitor: table ${t} has no column ${c}`));
      const where = m?.where as unknown[][] | undefined;
      if (where) for (const c of where) conditionToWire(this.schema, t, c); // validate now, not on the wire
      tables.set(t, { columns: cols?.filter((c) => c !== '_uuid'), where });
    }
    const reg: MonitorReg = { id: `m${this.nextMonitor++}`, tables, loaded: false, waiters: [] };
    for (const [t, m] of tables) this.cache.track(t, m.columns);
    this.monitors.set(reg.id, reg);
    const done = new Promise<void>((resolve, reject) => reg.waiters.push({ resolve, reject }));
    if (this.state === 'connected' && this.session) {
      this.sendMonitor(this.session, reg).catch((e: Error) => {
        if (e instanceof OvsdbDisconnectedError || e instanceof OvsdbTimeoutError) {
          this.session?.close(e); // resent on reconnect; the waiter resolves then
          return;
        }
        this.dropMonitor(reg, e);
      });
    }
    return done;
  }

  private dropMonitor(reg: MonitorReg, e: Error): void {
    this.monitors.delete(reg.id);
    for (const t of reg.tables.keys()) this.cache.untrack(t);
    for (const w of reg.waiters.splice(0)) w.reject(e);
  }

  private async sendMonitor(session: RpcSession, reg: MonitorReg): Promise<void> {
    // The reply is applied synchronously (onReply), before the update notifications that follow it.
    const apply = (reply: unknown): void => this.loadMonitorReply(reg, reply);
    if (this.monitorCond) {
      const req: Record<string, unknown> = {};
      for (const [t, m] of reg.tables) {
        const r: Record<string, unknown> = {};
        if (m.columns) r.columns = m.columns;
        if (m.where) r.where = m.where.map((c) => conditionToWire(this.schema, t, c));
        req[t] = [r];
      }
      try {
        await session.request('monitor_cond', [this.schema.name, reg.id, req], this.opts.requestTimeoutMs, apply);
      } catch (e) {
        if (!(e instanceof OvsdbRpcError) || !/unknown method/i.test(JSON.stringify(e.error))) throw e;
        this.log.info(`ovsdb ${this.schema.name}: ${session.remote} has no monitor_cond; using monitor`);
        this.monitorCond = false;
      }
    }
    if (!this.monitorCond) {
      const req: Record<string, unknown> = {};
      for (const [t, m] of reg.tables) req[t] = m.columns ? { columns: m.columns } : {};
      await session.request('monitor', [this.schema.name, reg.id, req], this.opts.requestTimeoutMs, apply);
    }
    reg.loaded = true;
    for (const w of reg.waiters.splice(0)) w.resolve();
  }

  /** Reconciles each table with the server's truth; the first time, every row is an insert. */
  private loadMonitorReply(reg: MonitorReg, reply: unknown): void {
    const updates = isObj(reply) ? reply : {};
    for (const t of reg.tables.keys()) {
      const fresh = new Map<string, Record<string, unknown> & { _uuid: string }>();
      const rows = isObj(updates[t]) ? updates[t] : {};
      for (const [uuid, ru] of Object.entries(rows)) {
        if (!isObj(ru)) continue;
        const w = this.monitorCond ? (ru.initial ?? ru.insert) : ru.new;
        if (w === undefined || w === null) continue;
        const row = this.cache.fullRow(t, uuid, w);
        if (!this.monitorCond && !this.passesWhere(t, row)) continue;
        fresh.set(uuid, row);
      }
      for (const ev of this.cache.reconcile(t, fresh)) this.emitSafe('change', ev);
    }
  }

  private passesWhere(table: string, row: Record<string, unknown>): boolean {
    for (const reg of this.monitors.values()) {
      const m = reg.tables.get(table);
      if (m?.where) return m.where.every((c) => matchesCondition(this.schema, table, row, c));
    }
    return true;
  }

  private onNotification(session: RpcSession, method: string, params: unknown[]): void {
    if (session !== this.session) return;
    try {
      if (method === 'update2' || method === 'update') {
        const [id, updates] = params;
        if (id === SERVER_MONITOR_ID) return this.onServerUpdate(session, updates);
        const reg = typeof id === 'string' ? this.monitors.get(id) : undefined;
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
            if (ev) this.emitSafe('change', ev);
          }
        }
      } else if (method === 'monitor_canceled') {
        session.close(new OvsdbDisconnectedError(`${session.remote}: server canceled monitor ${JSON.stringify(params[0])}`));
      } else if (method === 'locked' || method === 'stolen') {
        this.emitSafe(method, params[0]);
      }
    } catch (e) {
      // A malformed update leaves the cache unknowable: drop the connection, resync on reconnect.
      session.close(new OvsdbDisconnectedError(`${session.remote}: bad ${method}: ${(e as Error).message}`));
    }
  }

  private onServerUpdate(session: RpcSession, updates: unknown): void {
    if (!this.serverDb.apply(updates)) {
      session.close(new OvsdbDisconnectedError(`${session.remote}: database ${this.schema.name} removed from server`));
      return;
    }
    const why = this.serverDb.row ? unusableReason(this.serverDb.row, this.schema.name, this.opts.leaderOnly) : undefined;
    if (why) {
      this.log.warn(`ovsdb ${this.schema.name}: ${session.remote}: ${why}; moving on`);
      session.close(new OvsdbDisconnectedError(`${session.remote}: ${why}`));
    }
  }

  /** Resolves with the first cached row of `table` matching `pred`, now or when it arrives; rejects after timeoutMs. */
  waitFor<K extends TableName<T>>(table: K, pred: (row: T[K]) => boolean, timeoutMs: number): Promise<T[K]> {
    if (!this.cache.isMonitored(table)) return Promise.reject(new OvsdbError(`waitFor ${table}: table is not monitored (call monitor first)`));
    const now = this.cache.find(table, pred);
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const onChange = (ev: ChangeEvent<T>): void => {
        if (ev.table !== table || ev.kind === 'delete') return;
        const row = ev.row as T[K];
        if (!pred(row)) return;
        cleanup();
        resolve(row);
      };
      const onClosed = (): void => {
        cleanup();
        reject(new OvsdbDisconnectedError(`waitFor ${table}: client closed`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new OvsdbTimeoutError(`waitFor ${table}: no matching row within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('change', onChange);
        this.off('closed', onClosed);
      };
      this.on('change', onChange);
      this.on('closed', onClosed);
    });
  }

  private emitSafe(event: string, ...args: unknown[]): void {
    try {
      this.emit(event, ...args);
    } catch (e) {
      this.log.error(`ovsdb ${this.schema.name}: '${event}' listener threw: ${(e as Error).stack ?? String(e)}`);
    }
  }
}
