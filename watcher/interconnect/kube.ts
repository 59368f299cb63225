// Kubernetes side of the interconnect controller: the ovn-ic-config ConfigMap and kubeovn.io Subnets (informers),
// Events on the ConfigMap, the ovn-ic-status ConfigMap, and the gateway label on Nodes.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesListObject, type KubernetesObject, type V1ConfigMap, type V1Node } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../lib/log.js';
import { Informer } from '../../lib/kube/informer.js';
import { IC_GATEWAY_LABEL } from '../../lib/ovnic/gateway-flag.js';
import { IC_CONFIGMAP_NAME, IC_CONFIGMAP_NAMESPACE } from './config.js';

export const IC_STATUS_CONFIGMAP_NAME = 'ovn-ic-status';
export const EVENT_SOURCE = 'tessera-watcher';

/** The kubeovn.io/v1 Subnet fields the interconnect controller reads. */
export interface KubeOvnSubnet extends KubernetesObject {
  spec?: { cidrBlock?: string; disableInterConnection?: boolean; vpc?: string };
}

interface KubeErrorLike {
  code?: number;
}
const statusOf = (err: unknown): number | undefined => (err as KubeErrorLike).code;

export class IcKube {
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  readonly configMaps: Informer<V1ConfigMap>;
  readonly subnets: Informer<KubeOvnSubnet>;
  private lastStatus = '';

  constructor(kc: KubeConfig, private readonly log: Logger, onChange: () => void) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    const namespace = IC_CONFIGMAP_NAMESPACE;
    this.configMaps = new Informer<V1ConfigMap>({
      kc, path: `/api/v1/namespaces/${namespace}/configmaps`, name: 'interconnect ConfigMaps', logger: log,
      list: () => this.core.listNamespacedConfigMap({ namespace }),
    });
    this.subnets = new Informer<KubeOvnSubnet>({
      kc, path: '/apis/kubeovn.io/v1/subnets', name: 'interconnect Subnets', logger: log,
      list: async () => {
        try {
          return (await this.custom.listClusterCustomObject({ group: 'kubeovn.io', version: 'v1', plural: 'subnets' })) as KubernetesListObject<KubeOvnSubnet>;
        } catch (err) {
          // No Subnet CRD installed: nothing to exclude.
          if (statusOf(err) === 404) return { apiVersion: 'kubeovn.io/v1', kind: 'SubnetList', items: [], metadata: {} };
          throw err;
        }
      },
    });
    for (const inf of [this.configMaps, this.subnets] as Informer<KubernetesObject>[]) inf.onAdd(onChange).onUpdate(onChange).onDelete(onChange);
  }

  async start(): Promise<void> {
    await this.configMaps.start();
    await this.subnets.start();
  }

  /** Both caches hold a complete first list: until then "no ConfigMap" means "not known yet", never "deleted". */
  get synced(): boolean {
    return this.configMaps.hasSynced && this.subnets.hasSynced;
  }

  async stop(): Promise<void> {
    await this.configMaps.stop();
    await this.subnets.stop();
  }

  icConfigMap(): V1ConfigMap | undefined {
    return this.configMaps.get(IC_CONFIGMAP_NAME, IC_CONFIGMAP_NAMESPACE);
  }

  /** CIDRs (each family) of Subnets that set spec.disableInterConnection. */
  disabledSubnetCidrs(): { subnet: string; cidr: string }[] {
    const out: { subnet: string; cidr: string }[] = [];
    for (const s of this.subnets.list()) {
      if (s.spec?.disableInterConnection !== true || !s.spec.cidrBlock) continue;
      for (const c of s.spec.cidrBlock.split(',')) if (c.trim()) out.push({ subnet: s.metadata?.name ?? '?', cidr: c.trim() });
    }
    return out;
  }

  /** A core/v1 Event on the ovn-ic-config ConfigMap. Failures are logged, never thrown: the log line is the fallback. */
  async event(cm: V1ConfigMap, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace: IC_CONFIGMAP_NAMESPACE,
        body: {
          metadata: { name: `${IC_CONFIGMAP_NAME}.${randomBytes(8).toString('hex')}`, namespace: IC_CONFIGMAP_NAMESPACE },
          involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', namespace: IC_CONFIGMAP_NAMESPACE, name: IC_CONFIGMAP_NAME, uid: cm.metadata?.uid, resourceVersion: cm.metadata?.resourceVersion },
          reason, message, type,
          source: { component: EVENT_SOURCE },
          reportingComponent: EVENT_SOURCE,
          firstTimestamp: now, lastTimestamp: now, count: 1,
        },
      });
    } catch (err) {
      this.log.warn('could not record Event on ConfigMap', { reason, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Writes kube-system/ovn-ic-status when its data changed. */
  async writeStatus(data: Record<string, string>): Promise<void> {
    const text = JSON.stringify(data);
    if (text === this.lastStatus) return;
    const namespace = IC_CONFIGMAP_NAMESPACE;
    const name = IC_STATUS_CONFIGMAP_NAME;
    const body: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': EVENT_SOURCE } }, data };
    try {
      await this.core.replaceNamespacedConfigMap({ name, namespace, body });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      await this.core.createNamespacedConfigMap({ namespace, body });
    }
    this.lastStatus = text;
  }

  /** Puts IC_GATEWAY_LABEL=true on exactly `gwNodes`; returns the gw nodes that do not exist. */
  async syncGatewayLabels(gwNodes: string[]): Promise<string[]> {
    const labelled = await this.core.listNode({ labelSelector: `${IC_GATEWAY_LABEL}=true` });
    const opts = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    for (const n of labelled.items) {
      const name = n.metadata?.name;
      if (name && !gwNodes.includes(name)) await this.core.patchNode({ name, body: { metadata: { labels: { [IC_GATEWAY_LABEL]: null } } } }, opts);
    }
    const missing: string[] = [];
    for (const name of gwNodes) {
      let node: V1Node;
      try {
        node = await this.core.readNode({ name });
      } catch (err) {
        if (statusOf(err) === 404) {
          missing.push(name);
          continue;
        }
        throw err;
      }
      if (node.metadata?.labels?.[IC_GATEWAY_LABEL] !== 'true') {
        await this.core.patchNode({ name, body: { metadata: { labels: { [IC_GATEWAY_LABEL]: 'true' } } } }, opts);
      }
    }
    return missing;
  }
}
