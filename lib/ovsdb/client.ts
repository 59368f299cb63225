// The OVSDB client: a list of remotes tried in turn (preferring the Raft leader, via the
// _Server database), transact, monitor_cond (falling back to monitor) into a typed cache,
// reconnect with exponential backoff and resync of the cache with synthetic change events.
// Monitor registrations and the cache updates they bring live in monitors.ts.
import { EventEmitter } from 'node:events';
import { type DatabaseModel, type SchemaLike, type TableName, type TablesShape, isObj } from './schema.js';
import { type Remote, openStream, parseRemotes } from './remote.js';
import { RpcSession } from './rpc.js';
import { Cache, type ChangeEvent } from './cache.js';
import { type Op, type OpBuilder, type ResultsOf, lockId, op as opBuilder } from './ops.js';
import { SERVER_MONITOR_ID, ServerDbState, serverMonitorParams, unusableReason } from './server-db.js';
import { OvsdbDisconnectedError, OvsdbError, OvsdbRpcError, OvsdbTimeoutError, OvsdbTransactionError } from './errors.js';
import { type ClientOptions, type MonitorSpec, type OvsdbLogger, silentLogger } from './client-options.js';
import { Monitors } from './monitors.js';

export type { ClientOptions, MonitorSpec, OvsdbLogger, TableMonitor } from './client-options.js';

type State = 'connecting' | 'connected' | 'closed';

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
  private readonly monitors: Monitors<T>;
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
    this.log = options.logger ?? silentLogger;
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
    this.monitors = new Monitors(this.schema, this.cache, this.log, this.opts.requestTimeoutMs, (ev) => this.emitSafe('change', ev));
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
      this.monitors.cond = true;
      // Change handlers run during the resync below and may want to write.
      this.sessionReady = true;
      for (const reg of this.monitors.all()) await this.monitors.send(session, reg);
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
    this.monitors.rejectWaiters(new OvsdbDisconnectedError('client closed'));
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
    const r = this.monitors.register(spec);
    if (r instanceof Error) return Promise.reject(r);
    if (this.state === 'connected' && this.session) this.monitors.sendNow(this.session, r.reg, (e) => this.session?.close(e));
    return r.done;
  }

  private onNotification(session: RpcSession, method: string, params: unknown[]): void {
    if (session !== this.session) return;
    try {
      if (method === 'update2' || method === 'update') {
        const [id, updates] = params;
        if (id === SERVER_MONITOR_ID) return this.onServerUpdate(session, updates);
        this.monitors.applyNotification(method, id, updates);
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
