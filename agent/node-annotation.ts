// Reading the node subnet the watcher allocated (annotation tessera.io/node-subnet).
import type { V1Node } from '@kubernetes/client-node';
import { NODE_SUBNET_ANNOTATION } from '../lib/kube/annotations.js';
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
