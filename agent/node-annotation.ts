// The annotations the agent and the watcher exchange on the agent's own Node: the subnet the watcher allocated
// (tessera.io/node-subnet, read here) and the management port MAC the agent announces (tessera.io/node-mgmt-port-mac,
// from which the watcher creates the LSP k8s-<node>).
import type { V1Node } from '@kubernetes/client-node';
import { NODE_MGMT_MAC_ANNOTATION, NODE_SUBNET_ANNOTATION } from '../lib/kube/annotations.js';
import { parseCIDR } from '../lib/ipnet/index.js';

/** The node's subnet, or undefined while it is absent or not a valid CIDR (the watcher will fix it). */
export function annotationSubnet(node: V1Node): string | undefined {
  const v = node.metadata?.annotations?.[NODE_SUBNET_ANNOTATION];
  if (!v) return undefined;
  try {
    parseCIDR(v);
    return v;
  } catch {
    return undefined;
  }
}

/** Writes the management port MAC on the Node unless it already carries it; returns whether it wrote. */
export async function announceManagementMac(node: V1Node, mac: string, annotate: (a: Record<string, string>) => Promise<void>): Promise<boolean> {
  if (node.metadata?.annotations?.[NODE_MGMT_MAC_ANNOTATION] === mac) return false;
  await annotate({ [NODE_MGMT_MAC_ANNOTATION]: mac });
  return true;
}
