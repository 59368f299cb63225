// List then watch one collection into a cache, with client-node's ListWatch semantics (lib/kube/informer-core.ts
// runs it): the watch resumes from the last resourceVersion seen (events and BOOKMARKs advance it) when the stream
// ends or idles; a 410 Gone, as an answer or as an ERROR event, drops the version and relists, and the relist
// reports objects that went meanwhile as deletes. Any other failure goes to the error callbacks; the informer then
// calls start() again, which resumes from the version it had.
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { ListWatchSource } from '../../lib/kube/informer-core.js';
import { KubeApiError, type KubeHttp, type Query, type WatchEvent } from './http.js';

type Verb = 'add' | 'update' | 'delete';

export interface ListWatchOptions<T extends KubernetesObject> {
  /** The collection, e.g. /api/v1/pods. */
  path: string;
  fieldSelector?: string;
  labelSelector?: string;
  /** Replaces the plain GET of the collection (e.g. to read a missing CRD as an empty list). */
  list?: (query: Query) => Promise<KubernetesListObject<T>>;
}

const BASE_RECONNECT_MS = 1000;
const MAX_RECONNECT_MS = 30_000;

const is410 = (err: unknown): boolean => err instanceof KubeApiError && err.code === 410;

export class HttpListWatch<T extends KubernetesObject> implements ListWatchSource<T> {
  /** namespace ('' for cluster-scoped) -> name -> object. */
  private objects = new Map<string, Map<string, T>>();
  private readonly callbacks: Record<Verb, ((o: T) => void)[]> = { add: [], update: [], delete: [] };
  private readonly errorCallbacks: ((err: unknown) => void)[] = [];
  private resourceVersion = '';
  private stopped = false;
  private abort: (() => void) | undefined;
  private reconnectMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly http: KubeHttp, private readonly opts: ListWatchOptions<T>) {}

  on(verb: Verb, cb: (o: T) => void): void;
  on(verb: 'error', cb: (err: unknown) => void): void;
  on(verb: Verb | 'error', cb: ((o: T) => void) | ((err: unknown) => void)): void {
    if (verb === 'error') this.errorCallbacks.push(cb as (err: unknown) => void);
    else this.callbacks[verb].push(cb as (o: T) => void);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.reconnectMs = 0;
    await this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.();
    this.abort = undefined;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(namespace ?? '')?.get(name);
  }

  list(namespace?: string): T[] {
    if (namespace) return [...(this.objects.get(namespace)?.values() ?? [])];
    return [...this.objects.values()].flatMap((m) => [...m.values()]);
  }

  latestResourceVersion(): string {
    return this.resourceVersion;
  }

  private selectors(): Query {
    return { fieldSelector: this.opts.fieldSelector, labelSelector: this.opts.labelSelector };
  }

  /** Lists when there is no version to resume from, then opens the watch; failures go to the error callbacks. */
  private async run(): Promise<void> {
    this.abort?.();
    this.abort = undefined;
    if (this.stopped) return;
    try {
      if (!this.resourceVersion) await this.relist();
      if (this.stopped) return;
      const query = { ...this.selectors(), resourceVersion: this.resourceVersion, allowWatchBookmarks: 'true' };
      const abort = await this.http.watch<T>(this.opts.path, query, (ev) => this.onEvent(ev), (err) => this.onDone(err));
      if (this.stopped) abort();
      else this.abort = abort;
    } catch (err) {
      if (is410(err)) {
        this.resourceVersion = '';
        this.later(0);
        return;
      }
      if (!this.stopped) for (const cb of this.errorCallbacks) cb(err);
    }
  }

  private async relist(): Promise<void> {
    const list = this.opts.list ? await this.opts.list(this.selectors()) : await this.http.request<KubernetesListObject<T>>('GET', this.opts.path, { query: this.selectors() });
    const fresh = new Set(list.items.map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`));
    for (const [ns, m] of this.objects) {
      for (const [name, o] of m) {
        if (fresh.has(`${ns}/${name}`)) continue;
        m.delete(name);
        this.emit('delete', o);
      }
      if (m.size === 0) this.objects.delete(ns);
    }
    for (const o of list.items) this.addOrUpdate(o);
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
  }

  private onEvent(ev: WatchEvent<T>): void {
    if (ev.type === 'ERROR') {
      // A Status; a 410 means the version is too old: the stream ends and the next run relists.
      if ((ev.object as { code?: number }).code === 410) this.resourceVersion = '';
      return;
    }
    if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.addOrUpdate(ev.object);
    else if (ev.type === 'DELETED') this.remove(ev.object);
    this.reconnectMs = 0;
    this.resourceVersion = ev.object.metadata?.resourceVersion ?? '';
  }

  private onDone(err: Error | null): void {
    this.abort = undefined;
    if (this.stopped) return;
    if (err && err.name !== 'TimeoutError') {
      for (const cb of this.errorCallbacks) cb(err);
      return;
    }
    // The server ended the stream (or it idled out): resume at once the first time, then back off while it
    // keeps ending without events, as client-node does.
    const delay = err ? 0 : this.reconnectMs;
    if (!err) this.reconnectMs = Math.min(this.reconnectMs > 0 ? this.reconnectMs * 2 : BASE_RECONNECT_MS, MAX_RECONNECT_MS);
    this.later(delay);
  }

  private later(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), ms);
  }

  private addOrUpdate(o: T): void {
    const ns = o.metadata?.namespace ?? '';
    const name = o.metadata?.name ?? '';
    let m = this.objects.get(ns);
    if (!m) this.objects.set(ns, (m = new Map()));
    const found = m.get(name);
    if (found && found.metadata?.resourceVersion !== undefined && found.metadata.resourceVersion === o.metadata?.resourceVersion) return;
    m.set(name, o);
    this.emit(found ? 'update' : 'add', o);
  }

  private remove(o: T): void {
    const ns = o.metadata?.namespace ?? '';
    const m = this.objects.get(ns);
    if (!m?.delete(o.metadata?.name ?? '')) return;
    if (m.size === 0) this.objects.delete(ns);
    this.emit('delete', o);
  }

  private emit(verb: Verb, o: T): void {
    for (const cb of this.callbacks[verb]) cb(o);
  }
}
