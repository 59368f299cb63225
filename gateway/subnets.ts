// The extra Subnets of the default Vpc ovn-cluster (Kube-OVN's kubeovn.io/v1 Subnet with natOutgoing), as this
// gateway serves their egress: their switches hang off ovn_cluster_router outside --cluster-cidr, so GR_<node>
// needs a route back to each, SNAT for those with natOutgoing: true, and the bridge must hand replies to the
// non-SNATed ones to the GR. What is served is NB's word (the switch the watcher wrote, with the CIDR it serves);
// natOutgoing is the Subnet object's. ovn-default (--cluster-cidr) and join keep their own rules; a custom Vpc's
// Subnets are another router's and never egress here (the watcher reports natOutgoing on them as ignored).
import type { KubernetesListObject } from '@kubernetes/client-node';
import { apiErrorCode, loadKubeConfig, makeClients, type KubeAccessOptions } from '../lib/kube/client.js';
import { Informer } from '../lib/kube/informer.js';
import { DEFAULT_VPC, KUBEOVN_GROUP, KUBEOVN_VERSION, type Subnet } from '../lib/kube/kubeovn.js';
import { isOurs, KIND_KEY, OBJECT_KEY } from '../lib/ovn/names.js';
import { formatCIDR, parseCIDR } from '../lib/ipnet/index.js';
import type { Logger } from '../lib/log.js';

/** The external_ids key on a Subnet's switch naming its Vpc (watcher/vpc/translate.ts writes it). */
export const SUBNET_VPC_KEY = 'tessera.io/vpc';

export interface EgressSubnet {
  name: string;
  cidr: string;
  natOutgoing: boolean;
}

interface SwitchRow {
  other_config: Record<string, string>;
  external_ids: Record<string, string>;
}

/** Whether a Logical_Switch row is a served Subnet of the default Vpc (the gateway re-plans when one changes). */
export function isDefaultVpcSubnetSwitch(ls: { external_ids?: Record<string, string> }): boolean {
  return isOurs(ls.external_ids) && ls.external_ids?.[KIND_KEY] === 'subnet' && ls.external_ids[SUBNET_VPC_KEY] === DEFAULT_VPC;
}

/**
 * The default Vpc's served IPv4 Subnets, sorted by name: each switch the watcher serves for one, with the CIDR NB
 * has. natOutgoing comes from `natOf` (the Subnet object's spec; see natOutgoingOf).
 */
export function egressSubnets(switches: Iterable<SwitchRow>, natOf: (name: string, cidr: string) => boolean): EgressSubnet[] {
  const out: EgressSubnet[] = [];
  for (const ls of switches) {
    if (!isDefaultVpcSubnetSwitch(ls)) continue;
    const name = ls.external_ids[OBJECT_KEY] ?? '';
    let cidr: string;
    try {
      const net = parseCIDR(ls.other_config.subnet ?? '');
      if (net.family !== 4) continue; // IPv4 only, as the Subnets themselves
      cidr = formatCIDR(net);
    } catch {
      continue; // not a network: nothing to route
    }
    out.push({ name, cidr, natOutgoing: natOf(name, cidr) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * natOutgoing of a Subnet: its object's spec once the informer has synced (a switch whose object is gone, being
 * deleted, gets no SNAT); before that, whether this GR already SNATs the CIDR, so a restart keeps NB as it was.
 */
export function natOutgoingOf(synced: boolean, subnetOf: (name: string) => Subnet | undefined, snatted: (cidr: string) => boolean) {
  return (name: string, cidr: string): boolean => (synced ? subnetOf(name)?.spec?.natOutgoing === true : snatted(cidr));
}

/** An informer of kubeovn.io Subnets; an API without the CRD serves an empty list until it is installed. */
export function watchSubnets(access: KubeAccessOptions, log: Logger, onChange: () => void): Informer<Subnet> {
  const kc = loadKubeConfig(access);
  const api = makeClients(kc);
  const inf = new Informer<Subnet>({
    kc, path: `/apis/${KUBEOVN_GROUP}/${KUBEOVN_VERSION}/subnets`, name: 'subnets', logger: log,
    list: async () => {
      try {
        return (await api.custom.listClusterCustomObject({ group: KUBEOVN_GROUP, version: KUBEOVN_VERSION, plural: 'subnets' })) as KubernetesListObject<Subnet>;
      } catch (err) {
        if (apiErrorCode(err) === 404) return { apiVersion: `${KUBEOVN_GROUP}/${KUBEOVN_VERSION}`, kind: 'SubnetList', items: [], metadata: {} };
        throw err;
      }
    },
  });
  inf.onAdd(onChange).onUpdate(onChange).onDelete(onChange);
  return inf;
}
