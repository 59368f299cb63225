// What the CNI verbs need from the running agent, shared by the handler modules.
import type { SubnetLookup } from './annotation-check.js';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../lib/log.js';
import type { InformerCore as Informer } from '../lib/kube/informer-core.js';
import type { NodeNetdev } from '../lib/netdev/index.js';
import type { KeyedMutex } from './attachment-lock.js';
import type { AgentMetrics } from './metrics.js';
import type { OvsPorts } from './ovs-ports.js';
import type { PortBindingLookup } from './neutron-port-owner.js';

/** Plugin-specific error code (CNI reserves 1-99): the agent failed while doing the work. */
export const AGENT_FAILURE = 100;

export interface HandlerDeps {
  nodeName: string;
  mtu: number;
  log: Logger;
  pods: Informer<V1Pod>;
  ports: OvsPorts;
  netdev: NodeNetdev;
  /** undefined when ready, else why not. */
  notReady(): string | undefined;
  /** This node's subnet from its tessera.io/node-subnet annotation, or undefined while it has none. */
  nodeSubnet(): string | undefined;
  /** Host veth names of ADDs in progress: the reconciler leaves them alone. */
  inflight: Set<string>;
  /** Serialises ADD, DEL and CHECK per attachment and per pod. */
  locks: KeyedMutex;
  /** kubeovn.io Subnets by name, for pods placed on one (absent: node switch only). */
  subnets?: SubnetLookup;
  /** Where CNI requests and ADD stages are measured (absent: not measured). */
  metrics?: AgentMetrics;
  /** --neutron-ports: a pod network may name its Neutron port as iface_id. */
  neutronPorts?: boolean;
  /** With --neutron-ports: the SB Port_Binding of a named Neutron port, whose owner ADD checks (neutron-port-owner.ts). */
  portBindings?: PortBindingLookup;
}
