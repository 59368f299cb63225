// The watcher's access to kubeovn.io Vpcs and Subnets: informers into indexed stores, status and finalizer
// patches, creating the default objects, and Events on them (cluster-scoped objects' Events go to `default`).
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { Informer } from '../../lib/kube/informer.js';
import type { KubeClients, KubeLogger } from '../../lib/kube/client.js';
import { apiErrorCode } from '../../lib/kube/client.js';
import { MERGE_PATCH } from '../../lib/kube/patch.js';
import { KUBEOVN_GROUP, KUBEOVN_VERSION, type Subnet, type Vpc } from '../../lib/kube/kubeovn.js';
import { IndexedStore } from '../informers.js';

export type Plural = 'vpcs' | 'subnets';
const KIND: Record<Plural, string> = { vpcs: 'Vpc', subnets: 'Subnet' };

/** What the Vpc/Subnet controller needs of the API (an interface, so a test can stand in). */
export interface VpcApi {
  readonly vpcs: IndexedStore<Vpc>;
  readonly subnets: IndexedStore<Subnet>;
  patchStatus(plural: Plural, name: string, status: Record<string, unknown>): Promise<void>;
  /** Merge patch of metadata.finalizers, pinned to the resourceVersion the list was computed from. */
  setFinalizers(plural: Plural, name: string, resourceVersion: string | undefined, finalizers: string[]): Promise<void>;
  /** Creates the object unless it exists. */
  ensure(plural: Plural, obj: KubernetesObject & { spec?: unknown }): Promise<void>;
  event(plural: Plural, obj: KubernetesObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
  /** External Vpcs (external.ts): merge-patches labels and annotations; deletes a Vpc (gone already is fine). */
  labelVpc?(name: string, labels: Record<string, string>, annotations: Record<string, string>): Promise<void>;
  deleteVpc?(name: string): Promise<void>;
  /** Called after an informer lists again (its watch restarted: 410 Gone, an outage), once the list is applied. */
  onRelist?: (plural: Plural) => void;
}

export class VpcKube implements VpcApi {
  readonly vpcs = new IndexedStore<Vpc>();
  readonly subnets = new IndexedStore<Subnet>();
  private readonly informers: Array<Informer<KubernetesObject>> = [];
  private readonly listed = new Set<Plural>();
  onRelist?: (plural: Plural) => void;

  constructor(private readonly clients: KubeClients, logger: KubeLogger, onChange: (plural: Plural, name: string) => void) {
    for (const plural of ['vpcs', 'subnets'] as const) {
      const store = (plural === 'vpcs' ? this.vpcs : this.subnets) as IndexedStore<KubernetesObject>;
      const inf = new Informer<KubernetesObject>({
        kc: clients.kc, path: `/apis/${KUBEOVN_GROUP}/${KUBEOVN_VERSION}/${plural}`, name: plural, logger,
        list: async () => {
          const relist = this.listed.has(plural);
          this.listed.add(plural);
          const items = await this.listOnce(plural);
          // Every list after the first is a relist; ListWatch applies it synchronously once this resolves, so the
          // callback (a macrotask) sees the new list.
          if (relist) setImmediate(() => this.onRelist?.(plural));
          return items;
        },
      });
      const changed = (o: KubernetesObject) => onChange(plural, o.metadata?.name ?? '');
      inf.onAdd((o) => (store.put(o), changed(o)));
      inf.onUpdate((o) => (store.put(o), changed(o)));
      inf.onDelete((o) => (store.remove(o), changed(o)));
      this.informers.push(inf);
    }
  }

  private async listOnce(plural: Plural): Promise<KubernetesListObject<KubernetesObject>> {
    try {
      return (await this.clients.custom.listClusterCustomObject({ group: KUBEOVN_GROUP, version: KUBEOVN_VERSION, plural })) as KubernetesListObject<KubernetesObject>;
    } catch (err) {
      // The CRD is not installed: nothing to serve until it is (the informer keeps retrying its watch).
      if (apiErrorCode(err) === 404) return { apiVersion: `${KUBEOVN_GROUP}/${KUBEOVN_VERSION}`, kind: `${KIND[plural]}List`, items: [], metadata: {} };
      throw err;
    }
  }

  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
    await Promise.all(this.informers.map((i) => i.synced));
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  get restarts(): number {
    return this.informers.reduce((n, i) => n + i.restarts, 0);
  }

  private base(plural: Plural) {
    return { group: KUBEOVN_GROUP, version: KUBEOVN_VERSION, plural };
  }

  async patchStatus(plural: Plural, name: string, status: Record<string, unknown>): Promise<void> {
    await this.clients.custom.patchClusterCustomObjectStatus({ ...this.base(plural), name, body: { status } }, MERGE_PATCH);
  }

  async setFinalizers(plural: Plural, name: string, resourceVersion: string | undefined, finalizers: string[]): Promise<void> {
    await this.clients.custom.patchClusterCustomObject({ ...this.base(plural), name, body: { metadata: { resourceVersion, finalizers } } }, MERGE_PATCH);
  }

  async labelVpc(name: string, labels: Record<string, string>, annotations: Record<string, string>): Promise<void> {
    await this.clients.custom.patchClusterCustomObject({ ...this.base('vpcs'), name, body: { metadata: { labels, annotations } } }, MERGE_PATCH);
  }

  async deleteVpc(name: string): Promise<void> {
    try {
      await this.clients.custom.deleteClusterCustomObject({ ...this.base('vpcs'), name });
    } catch (err) {
      if (apiErrorCode(err) !== 404) throw err;
    }
  }

  async ensure(plural: Plural, obj: KubernetesObject & { spec?: unknown }): Promise<void> {
    try {
      await this.clients.custom.createClusterCustomObject({ ...this.base(plural), body: { apiVersion: `${KUBEOVN_GROUP}/${KUBEOVN_VERSION}`, kind: KIND[plural], ...obj } });
    } catch (err) {
      // 409: it exists. 404: the CRD is not installed; the default objects appear once it is and the watcher restarts.
      if (apiErrorCode(err) !== 409 && apiErrorCode(err) !== 404) throw err;
    }
  }

  async event(plural: Plural, obj: KubernetesObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const name = obj.metadata?.name ?? '';
    const now = new Date();
    await this.clients.core.createNamespacedEvent({
      namespace: 'default',
      body: {
        metadata: { generateName: `${name}.`, namespace: 'default' },
        involvedObject: { apiVersion: `${KUBEOVN_GROUP}/${KUBEOVN_VERSION}`, kind: KIND[plural], name, uid: obj.metadata?.uid },
        type, reason, message,
        source: { component: 'tessera-watcher' },
        firstTimestamp: now, lastTimestamp: now, count: 1,
        reportingComponent: 'tessera-watcher', reportingInstance: 'tessera-watcher',
      },
    });
  }
}
