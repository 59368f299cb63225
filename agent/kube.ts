// The agent's view of Kubernetes: informer caches of the pods on this node and of this node itself, and the one
// write it makes, annotations on its own Node.
import { KubeConfig, type V1Node, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../lib/log.js';
import { loadKubeConfig, makeClients } from '../lib/kube/client.js';
import { Informer } from '../lib/kube/informer.js';
import { MERGE_PATCH, annotationsPatch } from '../lib/kube/patch.js';
import type { AgentConfig } from './config.js';
import type { Subnet } from '../lib/kube/kubeovn.js';
import { subnetInformer } from './subnets.js';

export { WaitTimeout } from '../lib/kube/informer.js';

export function kubeConfigFrom(cfg: AgentConfig): KubeConfig {
  return loadKubeConfig({ server: cfg.kubeApi, tokenFile: cfg.kubeTokenFile, kubeconfig: cfg.kubeconfig });
}

export interface KubeViews {
  pods: Informer<V1Pod>;
  node: Informer<V1Node>;
  /** kubeovn.io Subnets, to check an annotation that places a pod on one (agent/subnets.ts). */
  subnets: Informer<Subnet>;
  /** Merge-patches annotations onto this node's Node object. */
  annotateNode(annotations: Record<string, string>): Promise<void>;
}

export function kubeViews(cfg: AgentConfig, log: Logger): KubeViews {
  const kc = kubeConfigFrom(cfg);
  const api = makeClients(kc).core;
  const fieldSelector = { pods: `spec.nodeName=${cfg.nodeName}`, node: `metadata.name=${cfg.nodeName}` };
  return {
    pods: new Informer<V1Pod>({
      kc, name: 'pods', path: '/api/v1/pods', fieldSelector: fieldSelector.pods, logger: log, backoff: { minMs: 250, maxMs: 10_000 },
      list: () => api.listPodForAllNamespaces({ fieldSelector: fieldSelector.pods }),
    }),
    node: new Informer<V1Node>({
      kc, name: 'node', path: '/api/v1/nodes', fieldSelector: fieldSelector.node, logger: log, backoff: { minMs: 250, maxMs: 10_000 },
      list: () => api.listNode({ fieldSelector: fieldSelector.node }),
    }),
    subnets: subnetInformer(kc, log),
    annotateNode: async (annotations) => {
      await api.patchNode({ name: cfg.nodeName, body: annotationsPatch(annotations) }, MERGE_PATCH);
    },
  };
}

/** Starts an informer and resolves once its first list succeeded (it retries with backoff until then). */
export async function startSynced(inf: Informer<V1Pod> | Informer<V1Node> | Informer<Subnet>): Promise<void> {
  await inf.start();
  await inf.synced;
}
