// One policy's peer address sets, kept per pod so that a pod event changes only the addresses of that pod.
// Built from a full translation (translatePolicy's plan); a pod event then recomputes that one pod's
// membership in each rule's peers with the same rules as translatePolicy (peerPods) and says which of its
// addresses each set gains or loses. Policies whose ACLs depend on pods (named ports) have no model: every
// event re-translates them. The port group needs no model: whether a pod is selected is a function of the
// pod alone, and its LSP's membership is compared with the NB cache directly.
import type { V1LabelSelector, V1NetworkPolicy, V1NetworkPolicyPeer } from '@kubernetes/client-node';
import { matchesSelector } from './selector.js';
import { policyTypes, ruleAddressSet, type PodInfo, type PolicyPlan } from './translate.js';

interface Peer {
  /** undefined: pods of the policy's own namespace. */
  ns?: V1LabelSelector;
  pod?: V1LabelSelector;
}

interface PeerSet {
  name: string;
  peers: Peer[];
  /** Each member pod's addresses (pod key → IPs), and how many members hold each address. */
  members: Map<string, string[]>;
  count: Map<string, number>;
}

export interface AddressChange {
  name: string;
  /** The pod's addresses, old and new: the ones whose presence in the set may have changed. */
  touched: string[];
}

const numeric = (p: unknown): boolean => typeof p === 'number' || /^[0-9]+$/.test(String(p));

/** Whether the policy's ACLs depend on pods: a named port resolves per destination pod. */
export function hasNamedPorts(policy: V1NetworkPolicy): boolean {
  const rules = [...(policy.spec?.ingress ?? []), ...(policy.spec?.egress ?? [])];
  return rules.some((r) => (r.ports ?? []).some((p) => p.port !== undefined && p.port !== null && !numeric(p.port)));
}

/** Each direction's rules' pod peers by the rule's address set name (the names translatePolicy gives them). */
function peersBySet(policy: V1NetworkPolicy, key: string): Map<string, Peer[]> {
  const out = new Map<string, Peer[]>();
  const types = policyTypes(policy);
  const dirs = [
    { dir: 'ingress' as const, on: types.ingress, rules: policy.spec?.ingress ?? [] },
    { dir: 'egress' as const, on: types.egress, rules: policy.spec?.egress ?? [] },
  ];
  for (const d of dirs) {
    if (!d.on) continue;
    d.rules.forEach((rule, i) => {
      const r = rule as { _from?: V1NetworkPolicyPeer[]; from?: V1NetworkPolicyPeer[]; to?: V1NetworkPolicyPeer[] };
      const peers = ((d.dir === 'ingress' ? (r._from ?? r.from) : r.to) ?? []).filter((p) => !p.ipBlock);
      out.set(ruleAddressSet(key, d.dir, i), peers.map((p) => ({ ns: p.namespaceSelector ?? undefined, pod: p.podSelector ?? undefined })));
    });
  }
  return out;
}

export class PolicyModel {
  private constructor(
    /** The policy object translated: a different object in the store means the policy changed. */
    readonly policy: V1NetworkPolicy,
    private readonly namespace: string,
    private readonly sets: PeerSet[],
  ) {}

  /** The model of a successful translation, or undefined when the policy's ACLs depend on pods. */
  static from(policy: V1NetworkPolicy, plan: PolicyPlan): PolicyModel | undefined {
    if (hasNamedPorts(policy)) return undefined;
    const peers = peersBySet(policy, plan.key);
    const sets: PeerSet[] = [];
    for (const as of plan.addressSets) {
      const p = peers.get(as.name);
      if (!p) return undefined; // not a set this model knows how to follow: stay with full translation
      const s: PeerSet = { name: as.name, peers: p, members: new Map(), count: new Map() };
      for (const m of as.members) setMember(s, `${m.namespace}/${m.name}`, m.ips);
      sets.push(s);
    }
    return new PolicyModel(policy, policy.metadata?.namespace ?? 'default', sets);
  }

  /**
   * Records a pod's current state (undefined: gone, or without an address) and returns, per address set,
   * the addresses to re-check. `namespaceLabels` undefined: the namespace is unknown (no namespaceSelector
   * matches it, as translatePolicy lists only known namespaces).
   */
  applyPod(podKey: string, info: PodInfo | undefined, namespaceLabels: Record<string, string> | undefined): AddressChange[] {
    const out: AddressChange[] = [];
    for (const s of this.sets) {
      const old = s.members.get(podKey) ?? [];
      const now = info && this.isPeer(s, info, namespaceLabels) ? info.ips : [];
      if (old.length === now.length && old.every((ip, i) => ip === now[i])) continue;
      setMember(s, podKey, now);
      out.push({ name: s.name, touched: [...new Set([...old, ...now])] });
    }
    return out;
  }

  /** Whether the set should hold the address (some member pod has it). */
  holds(setName: string, ip: string): boolean {
    return (this.sets.find((s) => s.name === setName)?.count.get(ip) ?? 0) > 0;
  }

  private isPeer(s: PeerSet, info: PodInfo, nsLabels: Record<string, string> | undefined): boolean {
    return s.peers.some((p) => {
      if (p.ns) return nsLabels !== undefined && matchesSelector(p.ns, nsLabels) && (!p.pod || matchesSelector(p.pod, info.labels));
      return !!p.pod && info.namespace === this.namespace && matchesSelector(p.pod, info.labels);
    });
  }
}

function setMember(s: PeerSet, podKey: string, ips: string[]): void {
  for (const ip of s.members.get(podKey) ?? []) {
    const n = (s.count.get(ip) ?? 0) - 1;
    if (n > 0) s.count.set(ip, n);
    else s.count.delete(ip);
  }
  if (ips.length) s.members.set(podKey, ips);
  else s.members.delete(podKey);
  for (const ip of ips) s.count.set(ip, (s.count.get(ip) ?? 0) + 1);
}
