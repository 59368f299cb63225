// A nested pod's network from its tessera.io/pod-networks annotation: the usual rules (agent/annotation-check.ts:
// address inside the switch it claims, gateway, MAC, routes, MTU) plus a VLAN id in 1..4094. Anyone who can patch
// the pod can write the annotation, so nothing is wired before it passes. Then the wait for tessera.io/port-up,
// the watcher's word that OVN reports the pod's port up.
import type { V1Pod } from '@kubernetes/client-node';
import { CniError, CniErrorCode, type AgentRequest } from '../../lib/cni-protocol.js';
import {
  DEFAULT_NETWORK, isVlanId, parsePodNetworks, POD_NETWORKS_ANNOTATION, POD_PORT_UP_ANNOTATION,
  VLAN_ID_MAX, VLAN_ID_MIN, type PodNetwork,
} from '../../lib/kube/annotations.js';
import { podNetworkProblem, type SubnetLookup } from '../annotation-check.js';
import { AGENT_FAILURE } from '../cni-deps.js';
import { WaitTimeout } from '../kube.js';
import type { NodeNet } from '../node-init.js';
import { addTarget, annotatedDefaultNetwork, notAnnotatedError, podRef } from '../pod-network.js';
import { isNeutronNetwork, neutronAddressProblem, neutronPortIdProblem } from '../neutron-port.js';
import { podPort } from '../../lib/ovn/names.js';
import type { NestedDeps } from './deps.js';

/** A nested network: the VLAN id is required. */
export type NestedNetwork = PodNetwork & { vlan: number };

export function vlanProblem(vlan: unknown): string | undefined {
  if (vlan === undefined) return 'no vlan (a nested pod needs its VLAN id)';
  if (!isVlanId(vlan)) return `vlan ${JSON.stringify(vlan)} is not an integer between ${VLAN_ID_MIN} and ${VLAN_ID_MAX}`;
  return undefined;
}

/** The first problem with a nested pod's network, naming the offending value; undefined when it can be wired. */
export function nestedNetworkProblem(n: PodNetwork, nodeName: string, node: NodeNet, subnets?: SubnetLookup): string | undefined {
  // Kuryr's nested layout: the watcher's Neutron mode made the pod a subport; iface_id names it (the port-up to wait for).
  if (typeof n === 'object' && n !== null && isNeutronNetwork(n)) return neutronPortIdProblem(n) ?? neutronAddressProblem(n) ?? vlanProblem(n.vlan);
  if (typeof n === 'object' && n !== null && n.iface_id !== undefined) return `iface_id ${JSON.stringify(n.iface_id).slice(0, 80)} is set, but logical_switch is not a Neutron network`;
  const base = podNetworkProblem(n, nodeName, node, subnets);
  return base ?? vlanProblem((n as { vlan?: unknown }).vlan);
}

/** The OVN port whose port-up the pod waits for: the Neutron subport's id, else the watcher's <ns>_<pod>. */
export const nestedPortName = (net: NestedNetwork, ns: string, name: string): string => net.iface_id ?? podPort(ns, name);

type Annotated = { net: NestedNetwork } | { problem: string } | undefined;

export function nestedAnnotated(pod: V1Pod, nodeName: string, node: NodeNet, subnets?: SubnetLookup): Annotated {
  const parsed = annotatedDefaultNetwork(pod);
  if (!parsed || 'problem' in parsed) return parsed;
  const problem = nestedNetworkProblem(parsed.net, nodeName, node, subnets);
  return problem ? { problem } : { net: parsed.net as NestedNetwork };
}

/** Waits (bounded by annotationTimeoutMs) for the pod with a valid nested network; CNI errors as the OVS agent's. */
export async function waitForNestedNetwork(req: AgentRequest, d: NestedDeps): Promise<{ pod: V1Pod; net: NestedNetwork }> {
  const { ns, name, where, node } = addTarget(req, d);
  let last: Annotated;
  const wired = (p: V1Pod): NestedNetwork | undefined => {
    if (req.podUid && p.metadata?.uid !== req.podUid) return undefined;
    last = nestedAnnotated(p, d.nodeName, node, d.subnets);
    return last && 'net' in last ? last.net : undefined;
  };
  const timeout = req.config.annotationTimeoutMs;
  try {
    const pod = await d.pods.waitFor(name, ns, (p) => wired(p) !== undefined, timeout);
    return { pod, net: wired(pod)! };
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    if (last && 'problem' in last) {
      throw new CniError(AGENT_FAILURE, `${where}: annotation ${POD_NETWORKS_ANNOTATION}: ${last.problem} (not corrected within ${timeout} ms)`);
    }
    throw notAnnotatedError(where, d.pods.get(name, ns), err.objectSeen, timeout, d.nodeName);
  }
}

/**
 * True when the pod object says OVN has its port up for the VLAN that was wired: port-up names this port and the
 * pod-networks annotation still carries that VLAN (a port re-tagged since, or another pod's value, does not count).
 */
export function portUpFor(p: V1Pod, uid: string | undefined, port: string, vlan: number): boolean {
  if (uid && p.metadata?.uid !== uid) return false;
  const ann = p.metadata?.annotations ?? {};
  if (ann[POD_PORT_UP_ANNOTATION] !== port) return false;
  try {
    return parsePodNetworks(ann[POD_NETWORKS_ANNOTATION])?.[DEFAULT_NETWORK]?.vlan === vlan;
  } catch {
    return false;
  }
}

/** Waits (bounded by ovnInstalledTimeoutMs) for tessera.io/port-up to name the pod's port. */
export async function waitPortUp(req: AgentRequest, d: NestedDeps, port: string, vlan: number): Promise<void> {
  const { ns, name } = podRef(req);
  const timeout = req.config.ovnInstalledTimeoutMs;
  try {
    await d.pods.waitFor(name, ns, (p) => portUpFor(p, req.podUid, port, vlan), timeout);
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    const seen = d.pods.get(name, ns)?.metadata?.annotations?.[POD_PORT_UP_ANNOTATION];
    throw new CniError(
      CniErrorCode.TryAgainLater,
      `pod ${ns}/${name}: OVN did not report port ${port} (VLAN ${vlan}) up within ${timeout} ms (${POD_PORT_UP_ANNOTATION} is ${seen === undefined ? 'unset' : JSON.stringify(seen)})`,
    );
  }
}
