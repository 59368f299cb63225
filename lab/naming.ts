// The lab's names: every netns under the lab's prefix, node and default pod names, and the checks that keep
// options a Kubernetes cluster would reject out of the lab.
import type { LabPodSpec } from './pods.js';

export interface LabNames {
  underlay: string;
  central: string;
  node: (name: string) => string;
  pod: (p: { namespace: string; name: string }) => string;
  /** CNI network name, also the key of cnitool's cache entries in /var/lib/cni. */
  cniNetwork: string;
}

export function labNames(prefix: string): LabNames {
  return {
    underlay: `${prefix}ul`,
    central: `${prefix}central`,
    node: (n) => `${prefix}${n}`,
    pod: (p) => `${prefix}pod-${p.namespace}-${p.name}`,
    cniNetwork: `${prefix}net`,
  };
}

export const nodeName = (i: number): string => `node${i + 1}`;

/**
 * web-<i> (app=web) on every node, and a client (app=client, role=client: the one make lab's policy lets in) on every
 * node: `client` on the first, `client-<i>` on the others.
 */
export function defaultPods(nodes: number | string[]): LabPodSpec[] {
  const names = typeof nodes === 'number' ? Array.from({ length: nodes }, (_, i) => nodeName(i)) : nodes;
  const pods: LabPodSpec[] = names.map((n, i) => ({ namespace: 'default', name: `web-${i + 1}`, node: n, labels: { app: 'web' } }));
  names.forEach((n, i) => pods.push({ namespace: 'default', name: i === 0 ? 'client' : `client-${i + 1}`, node: n, labels: { app: 'client', role: 'client' } }));
  return pods;
}

export function checkPrefix(prefix: string): void {
  if (!/^[a-z][a-z0-9-]{0,15}-$/.test(prefix)) throw new Error(`lab prefix ${JSON.stringify(prefix)}: want lowercase letters, digits and dashes, ending in "-" (e.g. "tessera-")`);
}

export const DNS1123 = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function checkPods(pods: LabPodSpec[], nodeNames: string[]): void {
  const seen = new Set<string>();
  for (const p of pods) {
    const id = `${p.namespace}/${p.name}`;
    for (const [what, v] of [['namespace', p.namespace], ['name', p.name]]) {
      if (!DNS1123.test(v)) throw new Error(`lab pod ${id}: ${what} ${JSON.stringify(v)} is not a DNS-1123 label`);
    }
    if (seen.has(id)) throw new Error(`lab pod ${id} listed twice`);
    seen.add(id);
    if (!nodeNames.includes(p.node)) throw new Error(`lab pod ${id}: node ${p.node} is not one of ${nodeNames.join(', ')}`);
  }
}
