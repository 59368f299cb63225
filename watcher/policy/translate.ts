// NetworkPolicy → OVN, by the Kubernetes spec. Pure: the controller passes the pods and namespaces
// the policy can see, and gets back the port group, address sets and ACLs to converge NB to.
//
// Realisation (each policy is self-contained, so policies compose as unions without shared state):
// - port group = the pods the policy selects (its namespace, spec.podSelector);
// - for each direction in policyTypes: a drop ACL at DENY_PRIORITY on that port group isolates the
//   selected pods for that direction (default deny, only for selected pods);
// - each rule becomes one allow-related ACL at ALLOW_PRIORITY (reply traffic passes by conntrack);
//   a pod selected by several policies gets every policy's allows: rules are unions;
// - pod peers of a rule become one address set; ipBlock peers are inlined with their excepts;
// - ARP/ND and, for ingress, traffic from node management ports (kubelet probes) are always allowed.
import type { V1LabelSelector, V1NetworkPolicy, V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';
import { parseCIDR, formatCIDR, containsNet, type Family } from '../../lib/ipnet/index.js';
import type { AclSpec } from '../../lib/ovn/acl.js';
import { hashedName } from '../../lib/ovn/txn.js';
import { MGMT_ADDRESS_SET } from '../../lib/ovn/names.js';
import { matchesSelector, validateSelector } from './selector.js';

export const DENY_PRIORITY = 1000;
export const ALLOW_PRIORITY = 1001;

export interface ContainerPortInfo {
  name?: string;
  containerPort: number;
  protocol: string;
}

export interface PodInfo {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** Pod IPs (no prefix). */
  ips: string[];
  ports: ContainerPortInfo[];
}

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
}

export interface PolicyView {
  /** Pods of one namespace (cheap: informer namespace index). */
  podsIn(namespace: string): PodInfo[];
  /** All namespaces. */
  namespaces(): NamespaceInfo[];
  /** Pods anywhere exposing a container port of this name (for egress rules with no `to`). */
  podsWithPortName(name: string): PodInfo[];
}

export interface AddressSetPlan {
  name: string;
  addresses: string[];
  /** The peer pods whose IPs these are (the incremental model starts from them). */
  members: PodInfo[];
}

export interface PolicyPlan {
  key: string;
  portGroup: string;
  /** namespace/name of the selected pods (their LSPs are the port group's members). */
  selected: PodInfo[];
  addressSets: AddressSetPlan[];
  acls: AclSpec[];
  /** Namespaces whose pods or labels can change this plan (for event routing). */
  watchesAllNamespaces: boolean;
}

const PROTO: Record<string, string> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

export const policyKey = (p: V1NetworkPolicy): string => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
export const policyPortGroup = (key: string): string => hashedName('tessera_np', key);
export const ruleAddressSet = (key: string, dir: 'ingress' | 'egress', i: number): string => hashedName('tessera_np', key, dir, String(i));

export class PolicyError extends Error {}

/** The directions the policy isolates (spec: Ingress always unless policyTypes says, Egress if rules exist). */
export function policyTypes(p: V1NetworkPolicy): { ingress: boolean; egress: boolean } {
  const t = p.spec?.policyTypes;
  if (t && t.length) return { ingress: t.includes('Ingress'), egress: t.includes('Egress') };
  return { ingress: true, egress: (p.spec?.egress ?? []).length > 0 };
}

function peerPods(view: PolicyView, ns: string, peer: V1NetworkPolicyPeer): PodInfo[] {
  if (peer.namespaceSelector) {
    const nsSel = peer.namespaceSelector;
    const out: PodInfo[] = [];
    for (const n of view.namespaces()) {
      if (!matchesSelector(nsSel, n.labels)) continue;
      for (const p of view.podsIn(n.name)) if (!peer.podSelector || matchesSelector(peer.podSelector, p.labels)) out.push(p);
    }
    return out;
  }
  if (peer.podSelector) return view.podsIn(ns).filter((p) => matchesSelector(peer.podSelector!, p.labels));
  return [];
}

const famVar = (f: Family): string => (f === 4 ? 'ip4' : 'ip6');

function ipBlockTerm(cidr: string, except: string[] | undefined, field: 'src' | 'dst', where: string): string {
  let net;
  try {
    net = parseCIDR(cidr, { strict: false });
  } catch (e) {
    throw new PolicyError(`${where}: ipBlock.cidr ${(e as Error).message}`);
  }
  const v = `${famVar(net.family)}.${field}`;
  const ex = (except ?? []).map((e) => {
    try {
      return parseCIDR(e, { strict: false });
    } catch (err) {
      throw new PolicyError(`${where}: ipBlock.except ${(err as Error).message}`);
    }
  });
  for (const e of ex) if (!containsNet(net, e)) throw new PolicyError(`${where}: ipBlock.except ${formatCIDR(e)} is not inside cidr ${formatCIDR(net)}`);
  const base = `${v} == ${formatCIDR(net)}`;
  return ex.length ? `(${base} && ${v} != {${ex.map(formatCIDR).join(', ')}})` : base;
}

function ipVar(ip: string): 'ip4' | 'ip6' {
  return ip.includes(':') ? 'ip6' : 'ip4';
}

/**
 * The port clause of a rule, or undefined when the rule has ports but none resolve (the rule then
 * allows nothing), or '' when the rule has no ports (all ports). Named ports resolve against `dstPods`.
 */
function portsClause(ports: V1NetworkPolicyPort[] | undefined, dstPods: () => PodInfo[], where: string): string | undefined {
  if (!ports || ports.length === 0) return '';
  const terms: string[] = [];
  for (const p of ports) {
    const protoName = p.protocol ?? 'TCP';
    const proto = PROTO[protoName];
    if (!proto) throw new PolicyError(`${where}: unsupported protocol "${protoName}"`);
    if (p.port === undefined || p.port === null) {
      terms.push(proto);
      continue;
    }
    if (typeof p.port === 'number' || /^[0-9]+$/.test(String(p.port))) {
      const n = Number(p.port);
      if (n < 1 || n > 65535) throw new PolicyError(`${where}: port ${n} out of range 1..65535`);
      if (p.endPort !== undefined && p.endPort !== null) {
        if (p.endPort < n || p.endPort > 65535) throw new PolicyError(`${where}: endPort ${p.endPort} must be within ${n}..65535`);
        terms.push(`(${proto}.dst >= ${n} && ${proto}.dst <= ${p.endPort})`);
      } else {
        terms.push(`${proto}.dst == ${n}`);
      }
      continue;
    }
    // A named port: per destination pod, the number that pod's container port of that name has.
    const name = String(p.port);
    const byNumber = new Map<number, string[]>();
    for (const pod of dstPods()) {
      const cp = pod.ports.find((c) => c.name === name && (c.protocol || 'TCP') === protoName);
      if (!cp) continue;
      const l = byNumber.get(cp.containerPort) ?? [];
      l.push(...pod.ips);
      byNumber.set(cp.containerPort, l);
    }
    for (const [num, ips] of [...byNumber].sort((a, b) => a[0] - b[0])) {
      for (const fam of ['ip4', 'ip6'] as const) {
        const list = ips.filter((ip) => ipVar(ip) === fam).sort();
        if (list.length) terms.push(`(${fam}.dst == {${list.join(', ')}} && ${proto}.dst == ${num})`);
      }
    }
  }
  if (terms.length === 0) return undefined;
  return terms.length === 1 ? terms[0] : `(${terms.join(' || ')})`;
}

/**
 * Whether a pod (by its namespace and the labels of it and its namespace) can change a policy's plan: it
 * is in the policy's namespace and matches its podSelector (selected) or a same-namespace peer's, or its
 * namespace matches a namespaceSelector peer and the pod that peer's podSelector; or an egress rule without
 * peers names a port (resolved on pods anywhere). Routes pod events to the policies they can affect.
 */
export type PodInterest = (namespace: string, namespaceLabels: Record<string, string>, podLabels: Record<string, string>) => boolean;

export function podInterest(policy: V1NetworkPolicy): PodInterest {
  const own = policy.metadata?.namespace ?? 'default';
  const same: V1LabelSelector[] = [policy.spec?.podSelector ?? {}];
  const cross: { ns: V1LabelSelector; pod?: V1LabelSelector }[] = [];
  let everywhere = false;
  const peer = (p: V1NetworkPolicyPeer): void => {
    if (p.namespaceSelector) cross.push({ ns: p.namespaceSelector, pod: p.podSelector ?? undefined });
    else if (p.podSelector) same.push(p.podSelector);
  };
  for (const rule of policy.spec?.ingress ?? []) {
    const r = rule as { _from?: V1NetworkPolicyPeer[]; from?: V1NetworkPolicyPeer[] };
    (r._from ?? r.from ?? []).forEach(peer);
  }
  for (const rule of policy.spec?.egress ?? []) {
    const peers = rule.to ?? [];
    peers.forEach(peer);
    if (!peers.length && rule.ports?.some((p) => typeof p.port === 'string' && !/^[0-9]+$/.test(p.port))) everywhere = true;
  }
  if (everywhere) return () => true;
  return (ns, nsLabels, podLabels) => {
    try {
      return (ns === own && same.some((sel) => matchesSelector(sel, podLabels))) || cross.some((c) => matchesSelector(c.ns, nsLabels) && (!c.pod || matchesSelector(c.pod, podLabels)));
    } catch {
      return true; // an invalid selector: let the sync report it
    }
  };
}

export interface TranslateOptions {
  family: Family;
}

/** Translates one policy; throws PolicyError (naming the policy and field) on invalid input. */
export function translatePolicy(policy: V1NetworkPolicy, view: PolicyView, opts: TranslateOptions): PolicyPlan {
  const key = policyKey(policy);
  const ns = policy.metadata?.namespace ?? 'default';
  const spec = policy.spec;
  if (!spec) throw new PolicyError(`networkpolicy ${key}: no spec`);
  validateSelector(spec.podSelector ?? {}, `networkpolicy ${key} spec.podSelector`);
  const pg = policyPortGroup(key);
  const selected = view.podsIn(ns).filter((p) => matchesSelector(spec.podSelector ?? {}, p.labels));
  const types = policyTypes(policy);
  const ipv = famVar(opts.family);
  const ext = { 'tessera.io/network-policy': key };
  const acls: AclSpec[] = [];
  const addressSets: AddressSetPlan[] = [];
  let watchesAll = false;

  const dirs = [
    { dir: 'ingress' as const, on: types.ingress, rules: spec.ingress ?? [], lport: `outport == @${pg}`, aclDir: 'to-lport' as const, peerField: 'src' as const },
    { dir: 'egress' as const, on: types.egress, rules: spec.egress ?? [], lport: `inport == @${pg}`, aclDir: 'from-lport' as const, peerField: 'dst' as const },
  ];
  for (const d of dirs) {
    if (!d.on) continue;
    // Egress ACLs are evaluated after load balancing so they see the backend pod, not the service VIP.
    const options = d.dir === 'egress' ? { 'apply-after-lb': 'true' } : undefined;
    const acl = (priority: number, match: string, action: AclSpec['action'], extra: Record<string, string> = {}): AclSpec => ({
      direction: d.aclDir, priority, match, action, ...(options ? { options } : {}), external_ids: { ...ext, 'tessera.io/direction': d.dir, ...extra },
    });
    acls.push(acl(DENY_PRIORITY, `${d.lport} && ip`, 'drop', { 'tessera.io/rule': 'default-deny' }));
    acls.push(acl(ALLOW_PRIORITY, `${d.lport} && (arp || nd)`, 'allow', { 'tessera.io/rule': 'arp-nd' }));
    if (d.dir === 'ingress') acls.push(acl(ALLOW_PRIORITY, `${d.lport} && ${ipv}.src == $${MGMT_ADDRESS_SET}`, 'allow-related', { 'tessera.io/rule': 'management' }));

    d.rules.forEach((rule, i) => {
      const where = `networkpolicy ${key} spec.${d.dir}[${i}]`;
      // client-node's typed objects say `_from`; raw JSON says `from`: accept both.
      const r = rule as { _from?: V1NetworkPolicyPeer[]; from?: V1NetworkPolicyPeer[]; to?: V1NetworkPolicyPeer[] };
      const peers: V1NetworkPolicyPeer[] = (d.dir === 'ingress' ? (r._from ?? r.from) : r.to) ?? [];
      const peerTerms: string[] = [];
      let podPeers: PodInfo[] | undefined;
      if (peers.length) {
        const seen = new Map<string, PodInfo>();
        let anyPodPeer = false;
        peers.forEach((peer, j) => {
          const pw = `${where}.${d.dir === 'ingress' ? 'from' : 'to'}[${j}]`;
          const kinds = [peer.podSelector, peer.namespaceSelector, peer.ipBlock].filter((x) => x !== undefined && x !== null).length;
          if (kinds === 0) throw new PolicyError(`${pw}: a peer needs podSelector, namespaceSelector or ipBlock`);
          if (peer.ipBlock) {
            if (peer.podSelector || peer.namespaceSelector) throw new PolicyError(`${pw}: ipBlock cannot be combined with selectors`);
            peerTerms.push(ipBlockTerm(peer.ipBlock.cidr, peer.ipBlock.except, d.peerField, pw));
            return;
          }
          if (peer.podSelector) validateSelector(peer.podSelector, `${pw}.podSelector`);
          if (peer.namespaceSelector) {
            validateSelector(peer.namespaceSelector, `${pw}.namespaceSelector`);
            watchesAll = true;
          }
          anyPodPeer = true;
          for (const p of peerPods(view, ns, peer)) seen.set(`${p.namespace}/${p.name}`, p);
        });
        if (anyPodPeer) {
          podPeers = [...seen.values()];
          const asName = ruleAddressSet(key, d.dir, i);
          addressSets.push({ name: asName, addresses: [...new Set(podPeers.flatMap((p) => p.ips))].sort(), members: podPeers });
          peerTerms.push(`${ipv}.${d.peerField} == $${asName}`);
        }
      }
      // Named ports resolve on the destination pods: the selected pods for ingress, the peers for egress.
      const dstPods = (): PodInfo[] => {
        if (d.dir === 'ingress') return selected;
        if (podPeers) return podPeers;
        if (peers.length) return [];
        watchesAll = true;
        return rule.ports?.flatMap((p) => (typeof p.port === 'string' && !/^[0-9]+$/.test(p.port) ? view.podsWithPortName(p.port) : [])) ?? [];
      };
      const portTerm = portsClause(rule.ports, dstPods, where);
      if (portTerm === undefined) return; // ports given, none resolve: this rule allows nothing
      const parts = [d.lport, 'ip'];
      if (peerTerms.length) parts.push(peerTerms.length === 1 ? peerTerms[0] : `(${peerTerms.join(' || ')})`);
      if (portTerm) parts.push(portTerm);
      acls.push(acl(ALLOW_PRIORITY, parts.join(' && '), 'allow-related', { 'tessera.io/rule': String(i) }));
    });
  }
  return { key, portGroup: pg, selected, addressSets, acls, watchesAllNamespaces: watchesAll };
}
