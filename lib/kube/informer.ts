// A typed informer over client-node's ListWatch that keeps running: client-node's informer stops
// for good after any error other than 410 (which it handles by relisting), and swallows exceptions
// thrown by handlers. This wrapper restarts it with backoff, logs handler failures, hands update
// handlers the previous object, and exposes a `synced` promise for the first complete list.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { KubeLogger } from './client.js';
import { apiErrorCode } from './client.js';

export interface InformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** Watch path of the collection, e.g. /api/v1/pods or /api/v1/namespaces/ns/pods. */
  path: string;
  /** Lists the same collection with the same selectors (a client-node list call). */
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  logger?: KubeLogger;
  /** Restart backoff after an error: doubles from minMs up to maxMs; reset by a successful (re)start. */
  backoff?: { minMs: number; maxMs: number };
  /** Name used in log lines (default: the path). */
  name?: string;
}

export type AddHandler<T> = (obj: T) => void | Promise<void>;
export type UpdateHandler<T> = (obj: T, old: T | undefined) => void | Promise<void>;
export type DeleteHandler<T> = (obj: T) => void | Promise<void>;

function keyOf(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

export class Informer<T extends KubernetesObject> {
  private readonly lw: ListWatch<T>;
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

  constructor(private readonly opts: InformerOptions<T>) {
    this.delayMs = opts.backoff?.minMs ?? 200;
    this.synced = new Promise((r) => (this.resolveSynced = r));
    this.lw = new ListWatch<T>(opts.path, new Watch(opts.kc), opts.list, false, opts.labelSelector, opts.fieldSelector);
    this.lw.on('add', (o: T) => {
      this.last.set(keyOf(o), o);
      this.dispatch('add', this.addHandlers, (h) => h(o));
    });
    this.lw.on('update', (o: T) => {
      const old = this.last.get(keyOf(o));
      this.last.set(keyOf(o), o);
      this.dispatch('update', this.updateHandlers, (h) => h(o, old));
    });
    this.lw.on('delete', (o: T) => {
      this.last.delete(keyOf(o));
      this.dispatch('delete', this.deleteHandlers, (h) => h(o));
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

  get hasSynced(): boolean {
    return this.isSynced;
  }

  /** Starts list+watch; resolves once the first attempt is done (check `synced` for success). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.attempt();
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
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.opts.backoff?.maxMs ?? 30000);
    this.opts.logger?.warn(`informer ${this.label()}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}; restarting in ${delay} ms`, { code: apiErrorCode(err) });
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

  private handlerFailed(what: string, err: unknown): void {
    this.opts.logger?.warn(`informer ${this.label()}: ${what} handler failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}
