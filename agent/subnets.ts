// The kubeovn.io Subnets, as the agent checks a pod annotation that names one (agent/annotation-check.ts): an
// informer over all Subnets (cluster-scoped; a few objects) and their addressing as each spec states it. A pod
// owner can write the annotation's logical_switch, but only the cluster admin writes a Subnet, so the CIDR,
// gateway and excludeIps the agent checks against are the cluster's, not the pod owner's.
import type { KubernetesListObject } from '@kubernetes/client-node';
import { InformerCore } from '../lib/kube/informer-core.js';
import type { KubeLogger } from '../lib/kube/client.js';
import { kubeErrorCode, type KubeHttp } from './kube-client/http.js';
import { HttpListWatch } from './kube-client/list-watch.js';
import { DEFAULT_SUBNET, JOIN_SUBNET, KUBEOVN_GROUP, KUBEOVN_VERSION, subnetAddressing, type Subnet, type SubnetAddressing } from '../lib/kube/kubeovn.js';
import type { SubnetLookup } from './annotation-check.js';

export function subnetInformer(http: KubeHttp, logger: KubeLogger): InformerCore<Subnet> {
  const path = `/apis/${KUBEOVN_GROUP}/${KUBEOVN_VERSION}/subnets`;
  const list = async (): Promise<KubernetesListObject<Subnet>> => {
    try {
      return await http.request<KubernetesListObject<Subnet>>('GET', path);
    } catch (err) {
      // No CRD installed: no Subnets; pods use their node switch only.
      if (kubeErrorCode(err) === 404) return { apiVersion: `${KUBEOVN_GROUP}/${KUBEOVN_VERSION}`, kind: 'SubnetList', items: [], metadata: {} };
      throw err;
    }
  };
  return new InformerCore<Subnet>(new HttpListWatch<Subnet>(http, { path, list }), { name: 'subnets', path, logger, backoff: { minMs: 250, maxMs: 10_000 }, errorCode: kubeErrorCode });
}

/** A lookup over the informer's cache: a served custom Subnet's addressing, else why it cannot be wired. */
export function subnetLookup(inf: Pick<InformerCore<Subnet>, 'get'>): SubnetLookup {
  return (name: string): SubnetAddressing | string => {
    if (name === DEFAULT_SUBNET || name === JOIN_SUBNET) return `${name} is served by the node switches, not by name`;
    const s = inf.get(name);
    if (!s) return `no Subnet ${name}`;
    if (s.metadata?.deletionTimestamp) return `Subnet ${name} is being deleted`;
    try {
      return subnetAddressing(s.spec);
    } catch (err) {
      return `Subnet ${name}: ${(err as Error).message}`;
    }
  };
}
