// Which namespaces' pods a cross-namespace policy can see: those its namespaceSelector peers match, or every
// namespace for an egress rule without peers that names a port (resolved on pods anywhere). Indexes pod
// events by namespace, so a pod event looks at the policies that can see its namespace, not at all of them.
import type { V1LabelSelector, V1NetworkPolicy, V1NetworkPolicyPeer } from '@kubernetes/client-node';
import { matchesSelector } from './selector.js';

export type NamespaceInterest = (namespaceLabels: Record<string, string>) => boolean;

export function namespaceInterest(policy: V1NetworkPolicy): NamespaceInterest {
  const selectors: V1LabelSelector[] = [];
  const add = (peers: V1NetworkPolicyPeer[] | undefined): void => {
    for (const p of peers ?? []) if (p.namespaceSelector) selectors.push(p.namespaceSelector);
  };
  for (const rule of policy.spec?.ingress ?? []) {
    const r = rule as { _from?: V1NetworkPolicyPeer[]; from?: V1NetworkPolicyPeer[] };
    add(r._from ?? r.from);
  }
  for (const rule of policy.spec?.egress ?? []) {
    if (!(rule.to ?? []).length && rule.ports?.some((p) => typeof p.port === 'string' && !/^[0-9]+$/.test(p.port))) return () => true;
    add(rule.to);
  }
  return (labels) => {
    try {
      return selectors.some((s) => matchesSelector(s, labels));
    } catch {
      return true; // an invalid selector: let the sync report it
    }
  };
}
