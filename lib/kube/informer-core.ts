// The informer's cache-facing half, over any list+watch source: restarts with backoff after errors, logs handler
// failures, hands update handlers the previous object, and exposes a `synced` promise for the first complete
// list. lib/kube/informer.ts runs it over client-node's ListWatch; the agent over its own (agent/kube-client/),
// so the agent does not load client-node. Nothing here imports client-node at run time.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeLogger } from './client.js';

/** What the informer needs of a list+watch: client-node's ListWatch has this shape. */
export interface ListWatchSource<T extends KubernetesObject> {
  on(verb: 'add' | 'update' | 'delete', cb: (o: T) => void): void;
  on(verb: 'error', cb: (err: unknown) => void): void;
  /** Lists (unless it can resume) and starts watching; resolves once the watch request is under way or failed. */
  start(): Promise<void>;
  stop(): Promise<void>;
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
  latestResourceVersion(): string;
}

export interface InformerCoreOptions {
  /** Watch path of the collection, e.g. /api/v1/pods (the default name in log lines). */
  path: string;
  logger?: KubeLogger;
  /** Restart backoff after an error: doubles from minMs up to maxMs; reset by a successful (re)start. */
  backoff?: { minMs: number; maxMs: number };
  /** Name used in log lines (default: the path). */
  name?: string;
  /** The HTTP status of an error, for the log line. */
  errorCode?: (err: unknown) => number | undefined;
}

export type AddHandler<T> = (obj: T) => void | Promise<void>;
export type UpdateHandler<T> = (obj: T, old: T | undefined) => void | Promise<void>;
export type DeleteHandler<T> = (obj: T) => void | Promise<void>;
export type InformerEvent = 'add' | 'update' | 'delete';
export type Listener<T> = (kind: InformerEvent, obj: T) => void;

/** waitFor gave up; objectSeen tells "never appeared" from "appeared but never matched". */
export class WaitTimeout extends Error {
  constructor(readonly objectSeen: boolean) {
    super('timed out');
    this.name = 'WaitTimeout';
  }
}

function keyOf(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

export class InformerCore<T extends KubernetesObject> {
  private readonly addHandlers: AddHandler<T>[] = [];
  private readonly updateHandlers: UpdateHandler<T>[] = [];
  private readonly deleteHandlers: DeleteHandler<T>[] = [];
  /** Last object seen per key, to hand update handlers the old version. */
  private readonly last = new Map<string, T>();
  private running = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private errorsSinceStart = 0;
  private resolveSynced!: () => void;
  private isSynced = false;
  /** Resolves once the first list has been delivered to the handlers. */
  readonly synced: Promise<void>;
  /** Errors seen (list or watch), for health reporting and tests. */
  errorCount = 0;
  restarts = 0;
  /** False from an error until the next successful (re)start: meanwhile the cache may be stale. */
  healthy = false;
  /** Removable listeners (waits, followers); handlers registered with onAdd/onUpdate/onDelete stay. */
  private readonly listeners = new Set<Listener<T>>();

  constructor(
    private readonly lw: ListWatchSource<T>,
    private readonly opts: InformerCoreOptions,
  ) {
    this.delayMs = opts.backoff?.minMs ?? 200;
    this.synced = new Promise((r) => (this.resolveSynced = r));
    this.lw.on('add', (o: T) => {
      this.last.set(keyOf(o), o);
      this.dispatch('add', this.addHandlers, (h) => h(o));
      this.notify('add', o);
    });
    this.lw.on('update', (o: T) => {
      const old = this.last.get(keyOf(o));
      this.last.set(keyOf(o), o);
      this.dispatch('update', this.updateHandlers, (h) => h(o, old));
      this.notify('update', o);
    });
    this.lw.on('delete', (o: T) => {
      this.last.delete(keyOf(o));
      this.dispatch('delete', this.deleteHandlers, (h) => h(o));
      this.notify('delete', o);
    });
    this.lw.on('error', (err: unknown) => this.onError(err));
  }

  onAdd(h: AddHandler<T>): this {
    this.addHandlers.push(h);
    return this;
  }

  onUpdate(h: UpdateHandler<T>): this {
    this.updateHandlers.push(h);
    return this;
  }

  onDelete(h: DeleteHandler<T>): this {
    this.deleteHandlers.push(h);
    return this;
  }

  /** Adds a listener for every event; returns the function that removes it. */
  on(l: Listener<T>): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Resolves with the object once pred(obj) holds, now or on a later event; rejects with WaitTimeout. */
  waitFor(name: string, namespace: string | undefined, pred: (o: T) => boolean, timeoutMs: number): Promise<T> {
    const now = this.get(name, namespace);
    if (now && pred(now)) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const off = this.on((kind, o) => {
        if (kind === 'delete' || o.metadata?.name !== name || (namespace !== undefined && o.metadata?.namespace !== namespace)) return;
        if (!pred(o)) return;
        clearTimeout(timer);
        off();
        resolve(o);
      });
      const timer = setTimeout(() => {
        off();
        reject(new WaitTimeout(this.get(name, namespace) !== undefined));
      }, Math.max(0, timeoutMs));
    });
  }

  get hasSynced(): boolean {
    return this.isSynced;
  }

  /** Starts list+watch; resolves once the first attempt is done (check `synced` for success). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // A first attempt that throws (rather than reporting through the error callback) is retried the same way.
    await this.attempt().catch((e: unknown) => this.onError(e));
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.lw.stop();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.lw.get(name, namespace);
  }

  list(namespace?: string): T[] {
    return [...this.lw.list(namespace)];
  }

  /** The resourceVersion the watch will resume from. */
  get resourceVersion(): string {
    return this.lw.latestResourceVersion();
  }

  private label(): string {
    return this.opts.name ?? this.opts.path;
  }

  private async attempt(): Promise<void> {
    this.errorsSinceStart = 0;
    await this.lw.start();
    if (!this.running) return;
    if (this.errorsSinceStart === 0) {
      this.healthy = true;
      this.delayMs = this.opts.backoff?.minMs ?? 200;
      if (!this.isSynced) {
        this.isSynced = true;
        this.resolveSynced();
      }
    }
  }

  private onError(err: unknown): void {
    // stop() aborts the watch request, which client-node reports as an error.
    if (!this.running) return;
    this.errorCount++;
    this.errorsSinceStart++;
    this.healthy = false;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.opts.backoff?.maxMs ?? 30000);
    this.opts.logger?.warn(`informer ${this.label()}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}; restarting in ${delay} ms`, { code: this.opts.errorCode?.(err) });
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.running) return;
      this.restarts++;
      this.attempt().catch((e: unknown) => this.onError(e));
    }, delay);
  }

  private dispatch<H>(what: string, handlers: H[], call: (h: H) => void | Promise<void>): void {
    for (const h of handlers) {
      try {
        const r = call(h);
        if (r instanceof Promise) r.catch((err: unknown) => this.handlerFailed(what, err));
      } catch (err) {
        this.handlerFailed(what, err);
      }
    }
  }

  private notify(kind: InformerEvent, o: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(kind, o);
      } catch (err) {
        this.handlerFailed(kind, err);
      }
    }
  }

  private handlerFailed(what: string, err: unknown): void {
    this.opts.logger?.warn(`informer ${this.label()}: ${what} handler failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}
