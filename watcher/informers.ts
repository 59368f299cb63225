// Wires lib/kube informers to the controllers' Store interface, with the secondary indexes the
// controllers need so no event does O(cluster) work (pods by namespace/node/port name, slices by service).
import type { KubernetesObject, V1Pod, V1EndpointSlice, V1NetworkPolicy, V1Node, V1Namespace, V1Service } from '@kubernetes/client-node';
import { Informer } from '../lib/kube/informer.js';
import type { KubeClients, KubeLogger } from '../lib/kube/client.js';
import http from 'node:http';
import https from 'node:https';
import { annotationsPatch } from '../lib/kube/patch.js';
import { tokenFileOf } from '../lib/kube/token-file.js';
import {
  keyOf, type KubeWrites, type ObjectRef, type Store, type Stores,
  POD_BY_NAMESPACE, POD_BY_NODE, POD_BY_PORT_NAME, SLICE_BY_SERVICE, POLICY_BY_NAMESPACE,
} from './kube-view.js';

type IndexFn<T> = (o: T) => string[];

/** A keyed, indexed mirror of one informer. */
export class IndexedStore<T extends KubernetesObject> implements Store<T> {
  private readonly objects = new Map<string, T>();
  private readonly indexes = new Map<string, { fn: IndexFn<T>; map: Map<string, Set<string>> }>();

  constructor(indexes: Record<string, IndexFn<T>> = {}) {
    for (const [n, fn] of Object.entries(indexes)) this.indexes.set(n, { fn, map: new Map() });
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  byIndex(index: string, value: string): T[] {
    const ix = this.indexes.get(index);
    if (!ix) throw new Error(`no index ${index}`);
    return [...(ix.map.get(value) ?? [])].map((k) => this.objects.get(k)!).filter(Boolean);
  }

  get size(): number {
    return this.objects.size;
  }

  put(o: T): T | undefined {
    const k = keyOf(o);
    const old = this.objects.get(k);
    if (old) this.unindex(k, old);
    this.objects.set(k, o);
    for (const { fn, map } of this.indexes.values()) {
      for (const v of fn(o)) {
        let s = map.get(v);
        if (!s) map.set(v, (s = new Set()));
        s.add(k);
      }
    }
    return old;
  }

  remove(o: T): T | undefined {
    const k = keyOf(o);
    const old = this.objects.get(k);
    if (!old) return undefined;
    this.unindex(k, old);
    this.objects.delete(k);
    return old;
  }

  private unindex(k: string, o: T): void {
    for (const { fn, map } of this.indexes.values()) {
      for (const v of fn(o)) {
        const s = map.get(v);
        s?.delete(k);
        if (s && s.size === 0) map.delete(v);
      }
    }
  }
}

export interface KindHandlers<T> {
  /** Any change (add/update/delete) with the previous version, if known. */
  changed: (obj: T, old: T | undefined, deleted: boolean) => void;
}

export class WatcherInformers {
  readonly stores: Stores & {
    nodes: IndexedStore<V1Node>; pods: IndexedStore<V1Pod>; namespaces: IndexedStore<V1Namespace>;
    services: IndexedStore<V1Service>; endpointSlices: IndexedStore<V1EndpointSlice>; policies: IndexedStore<V1NetworkPolicy>;
  };
  private readonly informers: Array<Informer<KubernetesObject>> = [];

  constructor(private readonly clients: KubeClients, private readonly logger: KubeLogger) {
    const ns = (o: KubernetesObject): string[] => [o.metadata?.namespace ?? ''];
    this.stores = {
      nodes: new IndexedStore<V1Node>(),
      pods: new IndexedStore<V1Pod>({
        [POD_BY_NAMESPACE]: ns,
        [POD_BY_NODE]: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []),
        [POD_BY_PORT_NAME]: (p) => [...new Set((p.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((cp) => cp.name).filter((n): n is string => !!n)))],
      }),
      namespaces: new IndexedStore<V1Namespace>(),
      services: new IndexedStore<V1Service>(),
      endpointSlices: new IndexedStore<V1EndpointSlice>({
        [SLICE_BY_SERVICE]: (s) => {
          const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
          return svc ? [`${s.metadata?.namespace ?? ''}/${svc}`] : [];
        },
      }),
      policies: new IndexedStore<V1NetworkPolicy>({ [POLICY_BY_NAMESPACE]: ns }),
    };
  }

  private add<T extends KubernetesObject>(name: string, path: string, list: () => Promise<{ items: T[] }>, store: IndexedStore<T>, h: KindHandlers<T>): void {
    const inf = new Informer<T>({ kc: this.clients.kc, path, list: list as never, logger: this.logger, name });
    inf.onAdd((o) => h.changed(o, store.put(o), false));
    inf.onUpdate((o) => h.changed(o, store.put(o), false));
    inf.onDelete((o) => {
      store.remove(o);
      h.changed(o, o, true);
    });
    this.informers.push(inf as unknown as Informer<KubernetesObject>);
  }

  register(h: {
    nodes: KindHandlers<V1Node>; pods: KindHandlers<V1Pod>; namespaces: KindHandlers<V1Namespace>;
    services: KindHandlers<V1Service>; endpointSlices: KindHandlers<V1EndpointSlice>; policies: KindHandlers<V1NetworkPolicy>;
  }): void {
    const { core, discovery, networking } = this.clients;
    this.add('nodes', '/api/v1/nodes', () => core.listNode(), this.stores.nodes, h.nodes);
    this.add('namespaces', '/api/v1/namespaces', () => core.listNamespace(), this.stores.namespaces, h.namespaces);
    this.add('pods', '/api/v1/pods', () => core.listPodForAllNamespaces(), this.stores.pods, h.pods);
    this.add('services', '/api/v1/services', () => core.listServiceForAllNamespaces(), this.stores.services, h.services);
    this.add('endpointslices', '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces(), this.stores.endpointSlices, h.endpointSlices);
    this.add('networkpolicies', '/apis/networking.k8s.io/v1/networkpolicies', () => networking.listNetworkPolicyForAllNamespaces(), this.stores.policies, h.policies);
  }

  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
    await Promise.all(this.informers.map((i) => i.synced));
  }

  /** Every informer has completed its first list (a later lost watch relists from the cache it keeps). */
  get hasSynced(): boolean {
    return this.informers.every((i) => i.hasSynced);
  }

  /** Total informer restarts (a relist after a lost watch): reconcile watches this. */
  get restarts(): number {
    return this.informers.reduce((n, i) => n + i.restarts, 0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}

/**
 * Annotation patches and Events. Annotation patches are the per-pod hot path, so they go out as plain
 * HTTP requests on a keep-alive agent (client-node's generated request pipeline costs several ms of CPU
 * per call, which dominated a 1,000-pod burst); auth and TLS come from the same KubeConfig.
 */
export class KubeWriter implements KubeWrites {
  private readonly server: URL;
  private readonly agent: http.Agent;
  private reqOpts?: Promise<https.RequestOptions>;

  /**
   * `connections`: annotation PATCHes in flight at once (HTTP/1.1 carries one per connection). During a
   * burst they compete with every other client's requests for the API server, so fewer connections
   * than pods in progress leaves annotations queueing here (measured in bench/watcher: 64 gave a p99 of
   * about 400 ms, 128 about 200 ms, at 64 pod creates in flight). FIFO scheduling keeps every
   * connection in use, so none idles out between bursts.
   */
  constructor(private readonly clients: KubeClients, private readonly component = 'tessera-watcher', private readonly connections = 128) {
    this.server = new URL(clients.kc.getCurrentCluster()?.server ?? 'http://127.0.0.1');
    const opts = { keepAlive: true, maxSockets: connections, scheduling: 'fifo' as const };
    this.agent = this.server.protocol === 'https:' ? new https.Agent(opts) : new http.Agent(opts);
  }

  /**
   * Opens the connections now (one cheap GET /version on each), so the first burst of pods does not pay
   * for connection set-up: a TLS handshake against a real API server, and against the Node test double
   * a wait of up to a second, since Node accepts one connection per event-loop turn under load.
   * Failures are left to the first real request to report.
   */
  async preconnect(timeoutMs = 5000): Promise<number> {
    const ok = await Promise.all(
      Array.from({ length: this.connections }, () => this.send('GET', '/version', undefined, timeoutMs).then((r) => r.status < 400, () => false)),
    );
    return ok.filter(Boolean).length;
  }

  /** TLS settings and headers, built once; a token file's Authorization is set per request (it rotates). */
  private options(): Promise<https.RequestOptions> {
    this.reqOpts ??= (async () => {
      const o: https.RequestOptions = { headers: {} };
      await this.clients.kc.applyToHTTPSOptions(o);
      return o;
    })();
    return this.reqOpts;
  }

  /** One request on the pool; `body` is sent as a JSON merge patch. Resolves with the status and the answer's text. */
  private async send(method: string, path: string, body: string | undefined, timeoutMs: number): Promise<{ status: number; text: string }> {
    const token = tokenFileOf(this.clients.kc);
    const r = await this.sendOnce(method, path, body, timeoutMs, token?.current());
    if (r.status !== 401 || !token) return r;
    // A rotated token: read the file again and retry once.
    token.invalidate();
    return this.sendOnce(method, path, body, timeoutMs, token.current());
  }

  private async sendOnce(method: string, path: string, body: string | undefined, timeoutMs: number, token: string | undefined): Promise<{ status: number; text: string }> {
    const base = await this.options();
    const mod = this.server.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = { ...(base.headers as Record<string, string>), Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) Object.assign(headers, { 'Content-Type': 'application/merge-patch+json', 'Content-Length': Buffer.byteLength(body) });
    return new Promise((resolve, reject) => {
      const req = mod.request(
        {
          ...base,
          agent: this.agent,
          method,
          host: this.server.hostname,
          port: this.server.port || (this.server.protocol === 'https:' ? 443 : 80),
          path: `${this.server.pathname.replace(/\/$/, '')}${path}`,
          headers,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 500, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async annotate(ref: ObjectRef, annotations: Record<string, string | null>): Promise<void> {
    let path: string;
    if (ref.kind === 'Pod') path = `/api/v1/namespaces/${encodeURIComponent(ref.namespace ?? 'default')}/pods/${encodeURIComponent(ref.name)}`;
    else if (ref.kind === 'Node') path = `/api/v1/nodes/${encodeURIComponent(ref.name)}`;
    else throw new Error(`annotate: unsupported kind ${ref.kind}`);
    const what = `PATCH ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
    const r = await this.send('PATCH', path, JSON.stringify(annotationsPatch(annotations)), 30_000).catch((err: Error) => {
      throw new Error(`${what}: ${err.message}`);
    });
    if (r.status < 300) return;
    let msg = r.text;
    try {
      msg = (JSON.parse(r.text) as { message?: string }).message ?? r.text;
    } catch {
      /* not JSON */
    }
    const e = new Error(`${what}: HTTP ${r.status}: ${msg}`) as Error & { code?: number };
    e.code = r.status;
    throw e;
  }

  async event(ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const namespace = ref.namespace ?? 'default';
    const now = new Date();
    await this.clients.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${ref.name}.`, namespace },
        involvedObject: { kind: ref.kind, name: ref.name, namespace: ref.namespace, uid: ref.uid, apiVersion: ref.kind === 'NetworkPolicy' ? 'networking.k8s.io/v1' : 'v1' },
        type, reason, message,
        source: { component: this.component },
        firstTimestamp: now, lastTimestamp: now, count: 1,
        reportingComponent: this.component, reportingInstance: this.component,
      },
    });
  }
}
