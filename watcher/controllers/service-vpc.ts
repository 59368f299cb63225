// Where a ClusterIP Service's load balancers hang: a Service whose endpoints are all pods of one custom Vpc is
// served inside that Vpc (its LBs on every Subnet switch of the Vpc, out of the cluster LB group, so the default
// network never DNATs to addresses it cannot reach, and they may overlap its own); any other Service is the
// default Vpc's (the cluster LB group, on every node switch and default-Vpc Subnet). Endpoints with pods in
// several Vpcs, or in a custom Vpc and the default network, stay in the default Vpc and get a Warning Event.
// An endpoint's Vpc comes from the watcher's own IPAM (the pod's switch and address), never from what an
// EndpointSlice or pod annotation claims: an endpoint whose address is not the one its pod holds counts as the
// default network's.
import type { V1EndpointSlice } from '@kubernetes/client-node';
import type { NbRow } from '../../lib/ovn/txn.js';
import { DEFAULT_VPC } from '../../lib/kube/kubeovn.js';
import { vpcOwnedBy } from '../vpc/names.js';

export interface ServiceHome {
  /** The custom Vpc serving the Service, or undefined for the default Vpc. */
  vpc?: string;
  /** Set when the endpoints span Vpcs: why the Service stays in the default Vpc. */
  problem?: string;
}

/** What the home is computed from: pods' switches (IPAM) and NB's Subnet switches. */
export interface HomeView {
  holding(podKey: string): { ls: string; ip: string } | undefined;
  switches(): Iterable<NbRow<'Logical_Switch'>>;
}

/** The Vpc of a served Subnet switch; undefined for node switches and anything else (the default network). */
export function switchVpc(ls: NbRow<'Logical_Switch'> | undefined): string | undefined {
  if (!ls || !vpcOwnedBy(ls.external_ids, 'subnet')) return undefined;
  const v = ls.external_ids['tessera.io/vpc'];
  return v && v !== DEFAULT_VPC ? v : undefined;
}

export function serviceHome(slices: V1EndpointSlice[], view: HomeView): ServiceHome {
  const byName = new Map<string, NbRow<'Logical_Switch'>>();
  for (const ls of view.switches()) byName.set(ls.name, ls);
  const vpcs = new Set<string>();
  for (const slice of slices) {
    for (const ep of slice.endpoints ?? []) {
      const ref = ep.targetRef;
      const held = ref?.kind === 'Pod' && ref.name ? view.holding(`${ref.namespace ?? slice.metadata?.namespace ?? ''}/${ref.name}`) : undefined;
      for (const a of ep.addresses ?? []) vpcs.add(held && held.ip === a ? (switchVpc(byName.get(held.ls)) ?? DEFAULT_VPC) : DEFAULT_VPC);
    }
  }
  const custom = [...vpcs].filter((v) => v !== DEFAULT_VPC).sort();
  if (custom.length === 0) return {};
  if (custom.length === 1 && vpcs.size === 1) return { vpc: custom[0] };
  return { problem: `endpoints span Vpcs ${[...vpcs].sort().join(', ')}: a Service is served inside one custom Vpc only when all its endpoints are there; it stays in Vpc ${DEFAULT_VPC}, where the custom Vpcs' endpoints are unreachable` };
}

/** The Subnet switches of a custom Vpc, by name. */
export function vpcSwitches(switches: Iterable<NbRow<'Logical_Switch'>>, vpc: string): NbRow<'Logical_Switch'>[] {
  return [...switches].filter((ls) => switchVpc(ls) === vpc).sort((a, b) => (a.name < b.name ? -1 : 1));
}
