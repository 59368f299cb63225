// Which switch a pod's address comes from. Precedence, first match wins:
//   1. the pod's `ovn.kubernetes.io/logical_switch` annotation (a Subnet name; `ovn-default` or a node switch
//      name means the node's switch);
//   2. its Namespace's `ovn.kubernetes.io/logical_switch` annotation;
//   3. a Subnet whose spec.namespaces lists the Namespace (the oldest, if several do);
//   4. a Vpc whose spec.namespaces lists the Namespace: that Vpc's Subnet with spec.default, else its oldest;
//   5. a Subnet of the default Vpc with spec.default: true (other than ovn-default);
//   6. the node's own switch (the per-node part of ovn-default).
// The pod and Namespace annotations can be written by whoever may edit them, as in Kube-OVN: they choose only
// among Subnets the cluster admin created, and the watcher's IPAM still validates every address.
import type { V1Pod } from '@kubernetes/client-node';
import { KUBEOVN_SWITCH_ANNOTATION } from '../../lib/kube/annotations.js';
import { DEFAULT_SUBNET, DEFAULT_VPC, JOIN_SUBNET, subnetVpc, type Subnet, type Vpc } from '../../lib/kube/kubeovn.js';
import { nodeSwitch } from '../../lib/ovn/names.js';
import type { Store } from '../kube-view.js';
import { subnetSwitch } from './names.js';

export interface Placement {
  ls: string;
  /** Named explicitly (annotation): a switch that does not exist is refused, not waited for. */
  requested: boolean;
  /** Why this switch (for messages). */
  via: string;
}

export interface PlacementView {
  vpcs: Store<Vpc>;
  subnets: Store<Subnet>;
  namespaceAnnotation(ns: string): string | undefined;
}

const age = (s: Subnet): string => `${String(s.metadata?.creationTimestamp ?? '')} ${s.metadata?.name ?? ''}`;
const oldest = (list: Subnet[]): Subnet | undefined => [...list].sort((a, b) => (age(a) < age(b) ? -1 : 1))[0];
const custom = (s: Subnet): boolean => ![DEFAULT_SUBNET, JOIN_SUBNET].includes(s.metadata?.name ?? '') && !s.metadata?.deletionTimestamp;

function named(name: string, node: string, via: string, requested: boolean): Placement {
  if (name === DEFAULT_SUBNET) return { ls: nodeSwitch(node), requested: false, via };
  return { ls: subnetSwitch(name), requested, via };
}

export function placePod(pod: V1Pod, view: PlacementView): Placement {
  const node = pod.spec?.nodeName ?? '';
  const ns = pod.metadata?.namespace ?? 'default';
  const own = pod.metadata?.annotations?.[KUBEOVN_SWITCH_ANNOTATION];
  if (own) return named(own, node, `pod annotation ${KUBEOVN_SWITCH_ANNOTATION}`, true);
  const nsAnn = view.namespaceAnnotation(ns);
  if (nsAnn) return named(nsAnn, node, `namespace ${ns} annotation ${KUBEOVN_SWITCH_ANNOTATION}`, true);
  const subnets = view.subnets.list().filter(custom);
  const bound = oldest(subnets.filter((s) => s.spec?.namespaces?.includes(ns)));
  if (bound) return named(bound.metadata!.name!, node, `Subnet ${bound.metadata!.name} spec.namespaces`, false);
  const vpc = view.vpcs.list().find((v) => v.spec?.namespaces?.includes(ns));
  if (vpc) {
    const mine = subnets.filter((s) => subnetVpc(s) === vpc.metadata?.name);
    const pick = oldest(mine.filter((s) => s.spec?.default)) ?? oldest(mine);
    if (pick) return named(pick.metadata!.name!, node, `Vpc ${vpc.metadata?.name} spec.namespaces`, false);
  }
  const dflt = oldest(subnets.filter((s) => s.spec?.default && subnetVpc(s) === DEFAULT_VPC));
  if (dflt) return named(dflt.metadata!.name!, node, `Subnet ${dflt.metadata!.name} spec.default`, false);
  return { ls: nodeSwitch(node), requested: false, via: 'the node switch (ovn-default)' };
}
