// The agent's view of Kubernetes: informer caches of the pods on this node and of this node itself.
// Informers restart with backoff after errors (client-node's ListWatch stops on a non-410 error).
import { CoreV1Api, KubeConfig, ListWatch, Watch, type KubernetesListObject, type V1Node, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../lib/log.js';
import { loadKubeConfig } from '../lib/kube/client.js';
import type { AgentConfig } from './config.js';

export function kubeConfigFrom(cfg: AgentConfig): KubeConfig {
  return loadKubeConfig({ server: cfg.kubeApi, token: cfg.kubeToken, kubeconfig: cfg.kubeconfig });
}

type Obj = V1Pod | V1Node;
type Listener<T> = (kind: 'add' | 'update' | 'delete', obj: T) => void;

/** A restartable informer with event-driven waits. */
export class Watched<T extends Obj> {
  private lw: ListWatch<T> | undefined;
  private listeners = new Set<Listener<T>>();
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  synced = false;
  /** False while the informer is down (between an error and a successful restart): its cache may be stale. */
  healthy = false;

  constructor(
    private readonly what: string,
    private readonly path: string,
    private readonly listFn: () => Promise<KubernetesListObject<T>>,
    private readonly fieldSelector: string,
    private readonly watch: Watch,
    private readonly log: Logger,
  ) {}

  /** Starts and resolves after the first list (the cache is synced). */
  async start(): Promise<void> {
    let delay = 250;
    while (!this.stopped) {
      try {
        await this.startOnce();
        return;
      } catch (err) {
        this.log.warn(`${this.what} informer: initial list failed, retrying`, { error: (err as Error).message, delayMs: delay });
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  private async startOnce(): Promise<void> {
    const lw = new ListWatch<T>(this.path, this.watch, this.listFn, false, undefined, this.fieldSelector);
    let failed: unknown;
    lw.on('error', (err: unknown) => {
      failed = err;
      if (!this.synced || this.stopped) return;
      this.healthy = false;
      this.log.warn(`${this.what} informer stopped, restarting`, { error: err instanceof Error ? err.message : String(err) });
      this.scheduleRestart(lw);
    });
    for (const kind of ['add', 'update', 'delete'] as const) lw.on(kind, (o: T) => this.emit(kind, o));
    this.lw = lw;
    await lw.start();
    if (failed !== undefined) throw failed instanceof Error ? failed : new Error(String(failed));
    this.synced = true;
    this.healthy = true;
  }

  private scheduleRestart(old: ListWatch<T>): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      // Restart the same ListWatch: it keeps its objects and diffs the relist against them (emitting deletes).
      // ListWatch reports a failed relist through the error callback (which schedules the next retry), not by rejecting.
      old.start().then(() => {
        if (!this.retryTimer) this.healthy = true;
      }, (err: unknown) => {
        this.log.warn(`${this.what} informer restart failed`, { error: (err as Error).message });
        this.scheduleRestart(old);
      });
    }, 1000);
  }

  private emit(kind: 'add' | 'update' | 'delete', o: T): void {
    for (const l of [...this.listeners]) l(kind, o);
  }

  on(l: Listener<T>): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.lw?.get(name, namespace);
  }

  list(): T[] {
    return [...(this.lw?.list() ?? [])];
  }

  /** Resolves with the object once pred(obj) holds (now or on a later event); rejects after timeoutMs. */
  waitFor(name: string, namespace: string | undefined, pred: (o: T) => boolean, timeoutMs: number): Promise<T> {
    const now = this.get(name, namespace);
    if (now && pred(now)) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const off = this.on((kind, o) => {
        if (kind === 'delete' || o.metadata?.name !== name || (namespace !== undefined && o.metadata?.namespace !== namespace)) return;
        if (pred(o)) {
          clearTimeout(timer);
          off();
          resolve(o);
        }
      });
      const timer = setTimeout(() => {
        off();
        reject(new WaitTimeout(this.get(name, namespace) !== undefined));
      }, Math.max(0, timeoutMs));
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.lw?.stop();
  }
}

export class WaitTimeout extends Error {
  constructor(readonly objectSeen: boolean) {
    super('timed out');
  }
}

export interface KubeViews {
  pods: Watched<V1Pod>;
  node: Watched<V1Node>;
}

export function kubeViews(cfg: AgentConfig, log: Logger): KubeViews {
  const kc = kubeConfigFrom(cfg);
  const api = kc.makeApiClient(CoreV1Api);
  const watch = new Watch(kc);
  const podSel = `spec.nodeName=${cfg.nodeName}`;
  const nodeSel = `metadata.name=${cfg.nodeName}`;
  return {
    pods: new Watched<V1Pod>('pods', '/api/v1/pods', () => api.listPodForAllNamespaces({ fieldSelector: podSel }), podSel, watch, log),
    node: new Watched<V1Node>('node', '/api/v1/nodes', () => api.listNode({ fieldSelector: nodeSel }), nodeSel, watch, log),
  };
}
