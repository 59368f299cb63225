// NetworkPolicies the lab creates (`make lab` adds one), and what they imply for each pod-to-pod check: the
// report performs the denied connections too, so it shows the policy working, not just being accepted.
// The model covers the one shape the lab writes: ingress to pods matching `podSelector`, allowed only from pods of
// the same namespace matching `from`, on TCP `port`; everything else to the selected pods is denied (ICMP too).
import type { KubeObject } from './kube.js';

export interface LabPolicySpec {
  namespace: string;
  name: string;
  /** Pods the policy isolates for ingress (matchLabels). */
  podSelector: Record<string, string>;
  /** Peers allowed in: pods of the same namespace with these labels (matchLabels). */
  from: Record<string, string>;
  /** Also allowed in: these address blocks (make lab: the join CIDR, where the gateway's NodePort traffic comes from). */
  fromCidrs?: string[];
  /** The one TCP port allowed. */
  port: number;
}

/** `make lab`'s policy: the web pods accept ingress on their port only from pods labelled role=client. */
export const DEFAULT_POLICY = (port: number, fromCidrs: string[] = []): LabPolicySpec => ({
  namespace: 'default', name: 'web-allow-clients', podSelector: { app: 'web' }, from: { role: 'client' }, port,
  ...(fromCidrs.length ? { fromCidrs } : {}),
});

export interface PodLike {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
}

const matches = (labels: Record<string, string> | undefined, sel: Record<string, string>): boolean =>
  Object.entries(sel).every(([k, v]) => labels?.[k] === v);

export const selectorText = (sel: Record<string, string>): string => Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',');

export interface PolicyVerdict {
  /** The policies that select the destination pod (empty: not isolated, everything allowed). */
  policies: LabPolicySpec[];
  /** TCP to `port` allowed? */
  tcp: boolean;
  /** ICMP allowed? (never, once isolated: the lab's policies allow TCP only) */
  icmp: boolean;
}

/**
 * What the policies allow from pod `from` to pod `to` on TCP `port` (Kubernetes semantics: the union of the selecting
 * policies). `fromCidrs` never match a pod: the lab keeps them outside the cluster CIDR.
 */
export function verdict(policies: LabPolicySpec[], from: PodLike, to: PodLike, port: number): PolicyVerdict {
  const selecting = policies.filter((p) => p.namespace === to.namespace && matches(to.labels, p.podSelector));
  if (selecting.length === 0) return { policies: [], tcp: true, icmp: true };
  const tcp = selecting.some((p) => p.port === port && p.namespace === from.namespace && matches(from.labels, p.from));
  return { policies: selecting, tcp, icmp: false };
}

/** The NetworkPolicy object for the API server. */
export function networkPolicyObject(p: LabPolicySpec): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: p.name, namespace: p.namespace },
    spec: {
      podSelector: { matchLabels: p.podSelector }, policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: p.from } }, ...(p.fromCidrs ?? []).map((cidr) => ({ ipBlock: { cidr } }))],
        ports: [{ protocol: 'TCP', port: p.port }] }],
    },
  };
}

export const networkPoliciesPath = (namespace: string): string => `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies`;
