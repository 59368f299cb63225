// ADD's first step: the pod's network from its tessera.io/pod-networks annotation, once it is there and valid.
// A present but invalid annotation (agent/annotation-check.ts) is not wired. The agent keeps waiting, within the
// same bound as for a missing annotation, because the watcher rewrites an annotation that differs from its own
// allocation; if the bound passes first, ADD fails naming the bad value.
import type { V1Pod } from '@kubernetes/client-node';
import { CniError, CniErrorCode, type AgentRequest, type CniRoute } from '../lib/cni-protocol.js';
import { DEFAULT_NETWORK, parsePodNetworks, podNetworkError, POD_NETWORK_ERROR_ANNOTATION, POD_NETWORKS_ANNOTATION, type PodNetwork } from '../lib/kube/annotations.js';
import { nodeSwitch, podPort } from '../lib/ovn/names.js';
import { addressHolder, podNetworkProblem, type PortAddresses, type SubnetLookup } from './annotation-check.js';
import { AGENT_FAILURE, type HandlerDeps } from './cni-deps.js';
import { WaitTimeout } from './kube.js';
import { nodeNet, type NodeNet } from './node-init.js';
import { IFACE_ID, IFACE_ID_VER, IP_ADDRESSES, LOGICAL_SWITCH_KEY, podPortOf } from './ovs-ports.js';
import { NOT_A_NEUTRON_PORT, neutronNetworkProblem } from './neutron-port.js';

export function podRef(req: AgentRequest): { ns: string; name: string } {
  if (!req.podNamespace || !req.podName) {
    throw new CniError(CniErrorCode.InvalidEnvironment, 'CNI_ARGS must carry K8S_POD_NAMESPACE and K8S_POD_NAME');
  }
  return { ns: req.podNamespace, name: req.podName };
}

type Annotated = { net: PodNetwork } | { problem: string } | undefined;

/** The default network of the pod's annotation, unchecked; a problem when it does not parse; undefined while unset. */
export function annotatedDefaultNetwork(pod: V1Pod): Annotated {
  const raw = pod.metadata?.annotations?.[POD_NETWORKS_ANNOTATION];
  if (!raw) return undefined;
  let net: PodNetwork | undefined;
  try {
    net = parsePodNetworks(raw)?.[DEFAULT_NETWORK];
  } catch (err) {
    return { problem: (err as Error).message };
  }
  return net ? { net } : { problem: `has no "${DEFAULT_NETWORK}" network` };
}

/** ADD's error when the annotation never came (or the pod never showed), with the watcher's reason if it left one. */
export function notAnnotatedError(where: string, now: V1Pod | undefined, objectSeen: boolean, timeout: number, nodeName: string): CniError {
  // Quoted, as a pod owner can write the error annotation too.
  const cause = now && podNetworkError(now.metadata?.annotations);
  const msg = objectSeen
    ? `${where}: annotation ${POD_NETWORKS_ANNOTATION} not set within ${timeout} ms` +
      (cause ? `; likely cause (${POD_NETWORK_ERROR_ANNOTATION}): ${JSON.stringify(cause)}` : '')
    : `${where} not found on node ${nodeName} within ${timeout} ms`;
  return new CniError(CniErrorCode.TryAgainLater, msg);
}

/** The pod's default network, a problem naming the bad value, or undefined while there is no annotation. */
function annotated(pod: V1Pod, nodeName: string, node: NodeNet | undefined, others: () => PortAddresses[], subnets?: SubnetLookup, d?: HandlerDeps): Annotated {
  const parsed = annotatedDefaultNetwork(pod);
  if (!parsed || 'problem' in parsed) return parsed;
  const net = parsed.net;
  const self = podPort(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
  let problem: string | undefined;
  if (net.iface_id !== undefined) problem = neutronNetworkProblem(net, d?.neutronPorts === true, (id) => ifaceIdHolder(d, id, self));
  else problem = node ? podNetworkProblem(net, nodeName, node, subnets) : NOT_A_NEUTRON_PORT;
  if (problem) return { problem };
  // An annotation without logical_switch means the node switch (podNetworkProblem): named, so the port records it.
  const sw = net.logical_switch ?? nodeSwitch(nodeName);
  const holder = addressHolder(net.ip_addresses, self, others(), sw);
  return holder ? { problem: `ip address ${JSON.stringify(net.ip_addresses)} is already wired for pod port ${holder} on this node` } : { net: { ...net, logical_switch: sw } };
}

/** The pod port of another interface on this node that already carries iface-id `id` (none: undefined). */
function ifaceIdHolder(d: HandlerDeps | undefined, id: string, self: string): string | undefined {
  for (const i of d?.ports.podInterfaces() ?? []) {
    if (i.external_ids[IFACE_ID] === id && podPortOf(i.external_ids) !== self) return podPortOf(i.external_ids);
  }
  return undefined;
}

/** Addresses on the OVS ports of other pods that still exist on this node (a gone pod's port is reconcile's). */
function livePortAddresses(d: HandlerDeps): PortAddresses[] {
  const out: PortAddresses[] = [];
  for (const i of d.ports.podInterfaces()) {
    const id = podPortOf(i.external_ids);
    const sep = id.indexOf('_'); // namespaces are DNS labels: no '_' in them
    const pod = sep > 0 ? d.pods.get(id.slice(sep + 1), id.slice(0, sep)) : undefined;
    const ver = i.external_ids[IFACE_ID_VER];
    if (!pod || (ver && pod.metadata?.uid !== ver)) continue;
    const logicalSwitch = i.external_ids[LOGICAL_SWITCH_KEY];
    out.push({ ifaceId: id, addresses: (i.external_ids[IP_ADDRESSES] ?? '').split(',').filter(Boolean), ...(logicalSwitch ? { logicalSwitch } : {}) });
  }
  return out;
}

/** Which pod an ADD waits for and the node network its annotation is checked against (both agent modes). */
export function addTarget(req: AgentRequest, d: { nodeName: string; nodeSubnet(): string | undefined }): { ns: string; name: string; where: string; node: NodeNet } {
  const { ns, name } = podRef(req);
  const subnet = d.nodeSubnet();
  if (!subnet) throw new CniError(CniErrorCode.TryAgainLater, `node ${d.nodeName} has no subnet annotation yet`);
  return { ns, name, where: `pod ${ns}/${name}`, node: nodeNet(d.nodeName, subnet) };
}

/** A --neutron-ports node's ADD target: its pods carry Neutron's addressing, so there is no node network to check against. */
function neutronTarget(req: AgentRequest): { ns: string; name: string; where: string; node: undefined } {
  const { ns, name } = podRef(req);
  return { ns, name, where: `pod ${ns}/${name}`, node: undefined };
}

/** `boundMs`: the bound errors name (the caller's whole bound when this wait is the rest of a longer one). */
export async function waitForPodNetwork(req: AgentRequest, d: HandlerDeps, boundMs = req.config.annotationTimeoutMs): Promise<{ pod: V1Pod; net: PodNetwork }> {
  const { ns, name, where, node } = d.neutronPorts ? neutronTarget(req) : addTarget(req, d);
  let last: Annotated;
  const evaluate = (p: V1Pod): Annotated => {
    if (req.podUid && p.metadata?.uid !== req.podUid) return undefined;
    last = annotated(p, d.nodeName, node, () => livePortAddresses(d), d.subnets, d);
    return last;
  };
  const timeout = req.config.annotationTimeoutMs;
  const wired = (p: V1Pod): PodNetwork | undefined => {
    const r = evaluate(p);
    return r && 'net' in r ? r.net : undefined;
  };
  try {
    const pod = await d.pods.waitFor(name, ns, (p) => wired(p) !== undefined, timeout);
    return { pod, net: wired(pod)! };
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    // A conflicting port may have gone meanwhile without any pod event: look once more.
    const now = d.pods.get(name, ns);
    const net = now && wired(now);
    if (now && net) return { pod: now, net };
    if (last && 'problem' in last) {
      throw new CniError(AGENT_FAILURE, `${where}: annotation ${POD_NETWORKS_ANNOTATION}: ${last.problem} (not corrected within ${boundMs} ms)`);
    }
    // The watcher names why it could not allocate (e.g. no free address).
    throw notAnnotatedError(where, now, err.objectSeen, boundMs, d.nodeName);
  }
}

export function podRoutes(net: PodNetwork): CniRoute[] {
  const routes: CniRoute[] = [];
  const gw4 = (net.gateway_ips ?? []).find((g) => !g.includes(':'));
  if (gw4) routes.push({ dst: '0.0.0.0/0', gw: gw4 });
  for (const r of net.routes ?? []) routes.push({ dst: r.dest, gw: r.nextHop });
  return routes;
}
