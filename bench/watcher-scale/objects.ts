// The Kubernetes objects of the scale bench: namespaces, pods spread over nodes, services with their
// EndpointSlices, and NetworkPolicies (10 per namespace, a tenth of them with a cross-namespace peer).
import type { KubeObject } from '../../kube-double/unix-client.js';
export const PODS_PER_NAMESPACE = 100;
export const APPS = 10;
export const TEAMS = 5;

export const namespaceName = (n: number): string => `ns${n}`;

export function namespace(n: number): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespaceName(n), labels: { team: `t${n % TEAMS}` } } };
}

/** Pod i: namespace i / 100, node i % nodes, label app=a<i % 10>. */
export function pod(i: number, nodes: number, prefix = 'p'): { path: string; body: KubeObject } {
  const ns = namespaceName(Math.floor(i / PODS_PER_NAMESPACE));
  return {
    path: `/api/v1/namespaces/${ns}/pods`,
    body: {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: `${prefix}${i}`, namespace: ns, labels: { app: `a${i % APPS}` } },
      spec: { nodeName: `node${i % nodes}`, containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] },
    },
  };
}

export const serviceIp = (i: number): string => `10.96.${1 + Math.floor(i / 250)}.${(i % 250) + 1}`;

export function service(ns: string, name: string, ip: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { clusterIP: ip, ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] } };
}

/** Endpoint addresses: fabricated pod addresses in the cluster CIDR (the LB only carries them). */
export const endpointIp = (i: number): string => `10.244.${Math.floor(i / 250) % 256}.${(i % 250) + 3}`;

export function endpointSlice(ns: string, svc: string, slice: string, ips: string[]): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: slice, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ port: 8080, protocol: 'TCP' }],
  };
}

export interface PolicySpec {
  ns: string;
  name: string;
  body: KubeObject;
  /** ACLs the watcher writes for it (its directions' fixed ACLs plus one per rule). */
  acls: number;
  /** Its rules with pod peers (one address set each): direction and rule index. */
  addressSets: ['ingress' | 'egress', number][];
}

/**
 * Policy k of namespace n selects app=a<k> and allows ingress on TCP 8080 from app=a<k+1> of its
 * namespace; k=0 also allows app=a0 from every namespace of team t<n % 5> (a cluster-wide peer);
 * k=2 also isolates egress, allowing UDP 53 to app=a3.
 */
export function policy(n: number, k: number): PolicySpec {
  const ns = namespaceName(n);
  const ingress: object[] = [{ from: [{ podSelector: { matchLabels: { app: `a${(k + 1) % APPS}` } } }], ports: [{ port: 8080, protocol: 'TCP' }] }];
  if (k === 0) ingress.push({ from: [{ namespaceSelector: { matchLabels: { team: `t${n % TEAMS}` } }, podSelector: { matchLabels: { app: 'a0' } } }] });
  const egress = k === 2 ? [{ to: [{ podSelector: { matchLabels: { app: 'a3' } } }], ports: [{ port: 53, protocol: 'UDP' }] }] : undefined;
  const spec = { podSelector: { matchLabels: { app: `a${k}` } }, policyTypes: egress ? ['Ingress', 'Egress'] : ['Ingress'], ingress, ...(egress ? { egress } : {}) };
  // Ingress: default deny, ARP/ND, management + rules; egress: default deny, ARP/ND + rules.
  const acls = 3 + ingress.length + (egress ? 2 + egress.length : 0);
  return { ns, name: `np${k}`, body: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `np${k}`, namespace: ns }, spec }, acls, addressSets: [...ingress.map((_, i) => ['ingress', i] as ['ingress', number]), ...(egress ?? []).map((_, i) => ['egress', i] as ['egress', number])] };
}
