// The node's management port k8s-<node>: the LSP through which the host reaches its pods and services (the subnet's
// .2). The node's agent creates the OVS side and tells the port's MAC through the Node annotation
// tessera.io/node-mgmt-port-mac. Anyone who runs on the node can write that annotation, so the MAC is checked here
// before it reaches NB: one ordinary unicast MAC that no other port of the node's switch uses and that is not one
// Tessera derives for a pod or the router port.
import { NODE_MGMT_MAC_ANNOTATION } from '../../lib/kube/annotations.js';
import { formatIP, type IPAddr } from '../../lib/ipnet/index.js';
import { OWNER_KEY, macFromIPv4, managementPort, nodeSwitch, ownerIds } from '../../lib/ovn/names.js';
import type { NbCacheView, Txn } from '../../lib/ovn/txn.js';
import { createOrUpdatePort } from '../../lib/ovn/lsp.js';
import { DERIVED_MAC_PREFIX, macProblem } from '../ipam/requests.js';

/** Longest annotation value quoted in an Event: the value is node-written and may be anything. */
const QUOTE_MAX = 64;

export type ManagementMac = { mac: string } | { problem: string } | undefined;

/**
 * The management port MAC the Node announces, lower-cased, or why it is refused; undefined while the agent has not
 * written one. `mgmtIp` is the node subnet's .2; `cache` is read for the MACs of the switch's other ports.
 */
export function managementMac(node: string, annotations: Record<string, string> | undefined, mgmtIp: IPAddr, cache: NbCacheView): ManagementMac {
  const raw = annotations?.[NODE_MGMT_MAC_ANNOTATION];
  if (raw === undefined) return undefined;
  // Another writer's port of that name is never taken over (createOrUpdatePort would refuse it).
  const have = cache.lookupAll('Logical_Switch_Port', 'name', managementPort(node))[0];
  if (have && !have.external_ids[OWNER_KEY]) return { problem: `logical switch port ${managementPort(node)} exists and is not Tessera's (no ${OWNER_KEY} external id); it is left as it is` };
  const mac = raw.trim().toLowerCase();
  const quoted = JSON.stringify(raw.length > QUOTE_MAX ? `${raw.slice(0, QUOTE_MAX)}…` : raw);
  const refuse = (why: string): ManagementMac => ({ problem: `${NODE_MGMT_MAC_ANNOTATION}=${quoted} ${why}; the management port k8s-${node} keeps its NB addresses` });
  const problem = macProblem(mac);
  if (problem) return refuse(problem);
  const derived = macFromIPv4(formatIP(mgmtIp));
  if (mac.startsWith(DERIVED_MAC_PREFIX) && mac !== derived) return refuse(`is in ${DERIVED_MAC_PREFIX}*, which Tessera derives from pod and router IPs (the management IP's is ${derived})`);
  const user = macUser(cache, node, mac);
  if (user) return refuse(`is already used by port ${user}`);
  return { mac };
}

/** Another port on the node's switch whose addresses carry `mac`. */
function macUser(cache: NbCacheView, node: string, mac: string): string | undefined {
  const ls = cache.lookupAll('Logical_Switch', 'name', nodeSwitch(node))[0];
  for (const uuid of ls?.ports ?? []) {
    const lsp = cache.get('Logical_Switch_Port', uuid);
    if (lsp && lsp.name !== managementPort(node) && lsp.addresses.some((a) => a.split(/\s+/)[0].toLowerCase() === mac)) return lsp.name;
  }
  return undefined;
}

/** Creates or converges k8s-<node> on the node's switch: `<mac> <management IP>`, owned by the node. */
export function ensureManagementPort(txn: Txn, node: string, mac: string, mgmtIp: IPAddr): void {
  createOrUpdatePort(txn, nodeSwitch(node), {
    name: managementPort(node),
    addresses: [`${mac} ${formatIP(mgmtIp)}`],
    external_ids: ownerIds('node', node),
  });
}
