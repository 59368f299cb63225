// The kubeovn.io Subnets, as the agent checks a pod annotation that names one (agent/annotation-check.ts): an
// informer over all Subnets (cluster-scoped; a few objects) and their addressing as each spec states it. A pod
// owner can write the annotation's logical_switch, but only the cluster admin writes a Subnet, so the CIDR,
// gateway and excludeIps the agent checks against are the cluster's, not the pod owner's.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { Informer } from '../lib/kube/informer.js';
import { apiErrorCode, makeClients, type KubeLogger } from '../lib/kube/client.js';
import { DEFAULT_SUBNET, JOIN_SUBNET, KUBEOVN_GROUP, KUBEOVN_VERSION, subnetAddressing, type Subnet, type SubnetAddressing } from '../lib/kube/kubeovn.js';
import type { SubnetLookup } from './annotation-check.js';

export function subnetInformer(kc: KubeConfig, logger: KubeLogger): Informer<Subnet> {
  const { custom } = makeClients(kc);
  return new Informer<Subnet>({
    kc, name: 'subnets', path: `/apis/${KUBEOVN_GROUP}/${KUBEOVN_VERSION}/subnets`, logger, backoff: { minMs: 250, maxMs: 10_000 },
    list: async () => {
      try {
        return (await custom.listClusterCustomObject({ group: KUBEOVN_GROUP, version: KUBEOVN_VERSION, plural: 'subnets' })) as KubernetesListObject<Subnet>;
      } catch (err) {
        // No CRD installed: no Subnets; pods use their node switch only.
        if (apiErrorCode(err) === 404) return { apiVersion: `${KUBEOVN_GROUP}/${KUBEOVN_VERSION}`, kind: 'SubnetList', items: [], metadata: {} } as KubernetesListObject<KubernetesObject>;
        throw err;
      }
    },
  });
}

/** A lookup over the informer's cache: a served custom Subnet's addressing, else why it cannot be wired. */
export function subnetLookup(inf: Pick<Informer<Subnet>, 'get'>): SubnetLookup {
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
