// What the CNI verbs need from a nested agent: a VM's agent with no OVS, wiring pods as VLAN links on the VM's NIC.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../lib/log.js';
import type { InformerCore as Informer } from '../../lib/kube/informer-core.js';
import type { NodeNetdev } from '../../lib/netdev/index.js';
import type { SubnetLookup } from '../annotation-check.js';
import type { KeyedMutex } from '../attachment-lock.js';
import type { AgentMetrics } from '../metrics.js';

export interface NestedDeps {
  /** Marks the deps of a nested agent (agent/cni-handlers.ts picks the verbs by it). */
  mode: 'nested';
  nodeName: string;
  log: Logger;
  pods: Informer<V1Pod>;
  /** Netlink of the VM's own netns, where the parent NIC lives. */
  netdev: NodeNetdev;
  /** The VM's NIC whose VLANs carry the pods (--nested-parent-iface). */
  parentIface: string;
  notReady(): string | undefined;
  nodeSubnet(): string | undefined;
  locks: KeyedMutex;
  subnets?: SubnetLookup;
  metrics?: AgentMetrics;
}
