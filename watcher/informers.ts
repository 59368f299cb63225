// Wires lib/kube informers to the controllers' Store interface, with the secondary indexes the
// controllers need so no event does O(cluster) work (pods by namespace/node/port name, slices by service).
import type { KubernetesObject, V1Pod, V1EndpointSlice, V1NetworkPolicy, V1Node, V1Namespace, V1Service } from '@kubernetes/client-node';
import { Informer } from '../lib/kube/informer.js';
import type { KubeClients, KubeLogger } from '../lib/kube/client.js';
import { MERGE_PATCH, annotationsPatch } from '../lib/kube/patch.js';
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

  /** Total informer restarts (a relist after a lost watch): reconcile watches this. */
  get restarts(): number {
    return this.informers.reduce((n, i) => n + i.restarts, 0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}

/** Annotation patches and Events through client-node. */
export class KubeWriter implements KubeWrites {
  constructor(private readonly clients: KubeClients, private readonly component = 'tessera-watcher') {}

  async annotate(ref: ObjectRef, annotations: Record<string, string | null>): Promise<void> {
    const body = annotationsPatch(annotations);
    if (ref.kind === 'Pod') await this.clients.core.patchNamespacedPod({ name: ref.name, namespace: ref.namespace ?? 'default', body }, MERGE_PATCH);
    else if (ref.kind === 'Node') await this.clients.core.patchNode({ name: ref.name, body }, MERGE_PATCH);
    else throw new Error(`annotate: unsupported kind ${ref.kind}`);
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
