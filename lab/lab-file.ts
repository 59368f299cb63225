// .lab/lab.json: the description of a running lab that any tool can read to check it independently.
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { LabPolicySpec } from './policy.js';
import type { LabPki } from './pki.js';
import type { OpenstackLabInfo } from './openstack/ic-az.js';
import type { NestedLabInfo } from './nested.js';

/** The Tessera pieces a lab runs; the lab runs all of them, and lab.json names them for its readers. */
export interface Components {
  apiserver: boolean;
  watcher: boolean;
  agent: boolean;
}

export interface LabFile {
  /** Netns name prefix of this lab (every netns it made starts with it). */
  prefix: string;
  createdAt: string;
  /** Which Tessera pieces run (all of them). */
  components: Components;
  /** The Kubernetes API test server; null when the lab runs without it. Reachable over TCP only from lab netns. */
  /** `token` is also in `tokenFile` (mode 0600), the file the daemons read; this file is 0600 too. */
  apiserver: { url: string; token: string; tokenFile: string; unixSocket: string; serviceAccountTokenFiles?: Record<string, string> } | null;
  /** ssl:/tcp: remotes are reachable from lab netns only; root-netns tools use the unix socket. */
  nb: { remotes: string[]; unixSocket: string };
  sb: { remotes: string[]; unixSocket: string };
  /** The OVSDB PKI when NB/SB serve ssl: (each role's key, certificate and the CA). */
  pki?: LabPki;
  central: { netns: string; ip: string; runDir: string };
  underlay: { netns: string; cidr: string };
  nodes: Array<{ name: string; netns: string; ovsRunDir: string; ovsDbSocket: string; ip: string; subnet: string }>;
  pods: Array<{ namespace: string; name: string; node: string; netns: string; ip: string; mac: string; hostIface: string; labels?: Record<string, string> }>;
  services: Array<{ namespace: string; name: string; clusterIP: string; ports: Array<{ name: string; protocol: 'TCP' | 'UDP'; port: number; targetPort: number }>;
    type?: 'ClusterIP' | 'NodePort'; selector?: Record<string, string> }>;
  /** NetworkPolicies the lab created (make lab: one); the checks expect what they allow and deny. */
  policies?: LabPolicySpec[];
  /** The first gateway node and the external host, when the lab runs gateways (kept for one-gateway readers). */
  gateway?: LabGatewayInfo;
  /** Every gateway node (make lab: every node). */
  gateways?: LabGatewayInfo[];
  /** The egress/ingress matrix's listeners and kubernetes-style service (egress-matrix.ts), with the gateways. */
  egress?: LabEgressInfo;
  /** kubeovn.io Vpcs with a Subnet each and their pods (make lab --vpc, lab/vpc.ts); not in pods[]. */
  vpcs?: Array<{ vpc: string; subnet: string; namespace: string; cidrBlock: string; pods: LabFile['pods'] }>;
  /** The hypervisor, its VMs (nested nodes) and their pods (make lab --nested, lab/nested.ts); not in pods[]. */
  nested?: NestedLabInfo;
  /** make lab OPENSTACK=shared: Neutron on this lab's NB/SB, its routers, networks, VMs and the net2 pods (not in pods[]). */
  openstack?: OpenstackLabInfo;
}

export interface LabEgressInfo {
  /** TCP+UDP "who am I talking to" listener in every node's host netns. */
  hostPort: number;
  /** DNS-style UDP (and TCP) listener on the external host. */
  dnsPort: number;
  /** A ClusterIP service without selector whose only endpoint is `nodeIp` (a hostNetwork endpoint). */
  hostService: { namespace: string; name: string; clusterIP: string; port: number; node: string; nodeIp: string };
}

export interface LabGatewayInfo {
  node: string;
  nodeIp: string;
  /** The shared NIC's bridge tessera-gateway runs on. */
  bridge: string;
  /** A host on the underlay outside the cluster, with a listener on extPort that names who connected. */
  extNetns: string;
  extIp: string;
  extPort: number;
  /** default/web's NodePort. */
  nodePort: number;
}

/** lab.json of `make lab CLUSTERS=2`: the first cluster's fields at the top (one-cluster tools keep working). */
export interface MultiClusterLabFile extends LabFile {
  clusters: Array<LabFile & { name: string; clusterCidr: string; stateDir: string;
    /** kube-system/ovn-ic-status when the lab came up (state, message, overlaps). */
    icStatus: { state: string; message: string; overlaps: string } }>;
  interconnect: {
    /** IC-NB / IC-SB remotes (reachable from lab netns) and unix sockets for root-netns tools. */
    icNb: string[];
    icSb: string[];
    unixSockets: { nb: string[]; sb: string[] };
    netns: string;
    /** The kube-system/ovn-ic-config each cluster got (seed file name). */
    seed: string;
    statusConfigMap: string;
  };
  /** The OpenStack AZ (make lab OPENSTACK=ic): Neutron, its routers, networks and VMs. */
  openstack?: OpenstackLabInfo;
  /** What went wrong at start and how the lab repaired it (e.g. a stale ovn-controller flow). */
  warnings?: string[];
}

export function writeLabFile(path: string, lab: LabFile): void {
  // Write-then-rename so a reader never sees half a file; 0600: it holds the API token.
  writeFileSync(`${path}.tmp`, JSON.stringify(lab, null, 2) + '\n', { mode: 0o600 });
  chmodSync(`${path}.tmp`, 0o600); // an older .tmp keeps its mode through writeFileSync
  renameSync(`${path}.tmp`, path);
}

export function readLabFile(path: string): LabFile {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`no lab description at ${path} (is a lab up?)`);
  }
  return JSON.parse(raw) as LabFile;
}
