// State shared by the controllers of one watcher process.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../lib/log.js';
import type { WatcherConfig } from './config.js';
import type { NbClient } from '../lib/ovn/commit.js';
import { SubnetAllocator } from './ipam/subnet-allocator.js';
import { PodIPAM } from './ipam/pod-ipam.js';
import type { KubeWrites, Stores } from './kube-view.js';

export interface WatcherContext {
  config: WatcherConfig;
  nb: NbClient;
  stores: Stores;
  kube: KubeWrites;
  log: Logger;
  subnets: SubnetAllocator;
  ipam: PodIPAM;
  /** Which switch a pod's address comes from (watcher/vpc/placement.ts); unset: the node's switch. */
  placement?: (pod: V1Pod) => { ls: string; requested: boolean };
  /** Whether the pod address `ip` on switch `ls` is a next hop of its Vpc's routes (watcher/vpc/next-hops.ts). */
  forwards?: (ls: string, ip: string) => boolean;
  /** Pods whose network another controller gives (watcher/neutron-ports/): the NB pod controller leaves them alone. */
  podNetworkElsewhere?: (pod: V1Pod) => boolean;
}

export function newIpamState(config: WatcherConfig): { subnets: SubnetAllocator; ipam: PodIPAM } {
  return { subnets: new SubnetAllocator(config.clusterCidr, config.nodeSubnetPrefix), ipam: new PodIPAM() };
}
