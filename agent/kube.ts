// The agent's view of Kubernetes: informer caches of the pods on this node and of this node itself, and the one
// write it makes, annotations on its own Node. It goes through the agent's own small client (agent/kube-client/),
// not client-node, whose API models cost the agent about 40 MB of memory (bench/agent).
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../lib/log.js';
import { InformerCore } from '../lib/kube/informer-core.js';
import type { AgentConfig } from './config.js';
import type { Subnet } from '../lib/kube/kubeovn.js';
import { subnetInformer } from './subnets.js';
import { resolveKubeAccess } from './kube-client/access.js';
import { KubeHttp, kubeErrorCode } from './kube-client/http.js';
import { HttpListWatch } from './kube-client/list-watch.js';

export { WaitTimeout } from '../lib/kube/informer-core.js';

/** The API server connection of the agent's flags (a bad one is a ConfigError). */
export function kubeHttpFrom(cfg: AgentConfig): KubeHttp {
  return new KubeHttp(resolveKubeAccess({ server: cfg.kubeApi, tokenFile: cfg.kubeTokenFile, kubeconfig: cfg.kubeconfig }));
}

export interface KubeViews {
  pods: InformerCore<V1Pod>;
  node: InformerCore<V1Node>;
  /** kubeovn.io Subnets, to check an annotation that places a pod on one (agent/subnets.ts). */
  subnets: InformerCore<Subnet>;
  /** Merge-patches annotations onto this node's Node object. */
  annotateNode(annotations: Record<string, string>): Promise<void>;
}

export function kubeViews(cfg: AgentConfig, log: Logger): KubeViews {
  const http = kubeHttpFrom(cfg);
  const informer = <T extends V1Pod | V1Node>(name: string, path: string, fieldSelector: string) =>
    new InformerCore<T>(new HttpListWatch<T>(http, { path, fieldSelector }), { name, path, logger: log, backoff: { minMs: 250, maxMs: 10_000 }, errorCode: kubeErrorCode });
  return {
    pods: informer<V1Pod>('pods', '/api/v1/pods', `spec.nodeName=${cfg.nodeName}`),
    node: informer<V1Node>('node', '/api/v1/nodes', `metadata.name=${cfg.nodeName}`),
    subnets: subnetInformer(http, log),
    annotateNode: async (annotations) => {
      const path = `/api/v1/nodes/${encodeURIComponent(cfg.nodeName)}`;
      await http.request('PATCH', path, { body: { metadata: { annotations } }, contentType: 'application/merge-patch+json' });
    },
  };
}

/** Starts an informer and resolves once its first list succeeded (it retries with backoff until then). */
export async function startSynced(inf: InformerCore<V1Pod> | InformerCore<V1Node> | InformerCore<Subnet>): Promise<void> {
  await inf.start();
  await inf.synced;
}
