// What startLab's steps share: the options resolved once (names, addresses, specs) and what each step brings up for
// the steps after it. Steps read what earlier steps set through need(), so a step placed too early fails by name.
import { join, resolve } from 'node:path';
import type { NodeCniConfig } from './cni.js';
import type { GatewayOptions } from './gateway.js';
import type { ApiServerInfo, UnixKubeClient } from './kube.js';
import type { LabFile } from './lab-file.js';
import { DNS1123, checkPods, checkPrefix, defaultPods, labNames, nodeName, type LabNames } from './naming.js';
import type { Central } from './ovn-central.js';
import type { OvsNode } from './ovs-node.js';
import { BIN_DIR, MAKE_LAB_PREFIX, defaultStateDir } from './paths.js';
import type { LabPki } from './pki.js';
import type { LabPodSpec } from './pods.js';
import type { LabPolicySpec } from './policy.js';
import { POD_SERVER_PORT, type CheckResult, type StartFigures } from './report.js';
import type { ClusterCidrs } from './tessera.js';

/** Lab-private addressing: all of it lives inside the lab's netns. */
const UNDERLAY = { cidr: '192.168.77.0/24', plen: 24, central: '192.168.77.2', nodeBase: 10 };

export const CIDRS: ClusterCidrs = { cluster: '10.244.0.0/16', service: '10.96.0.0/16', join: '100.64.0.0/16' };
export const POD_MTU = 1400;

/** Where a lab sits on the underlay; the default is its own underlay netns on UNDERLAY. */
export interface LabNetwork {
  /** An underlay netns someone else created and removes (several clusters on one "physical network"). */
  sharedUnderlay?: { netns: string; cidr: string };
  centralIp: string;
  /** Underlay IP of node i (index into the node list). */
  nodeIp: (i: number) => string;
  /** Short tag for the underlay-side veth names (ul-<tag>-c, ul-<tag>-n<i>), unique per lab on a shared underlay. */
  vethTag?: string;
}

export interface LabServiceSpec {
  namespace: string;
  name: string;
  clusterIP: string;
  port: number;
  targetPort: number;
  /** Pods whose labels include all of these back the service. */
  selector: Record<string, string>;
}

export const DEFAULT_SERVICES: LabServiceSpec[] = [
  { namespace: 'default', name: 'web', clusterIP: '10.96.0.10', port: 80, targetPort: POD_SERVER_PORT, selector: { app: 'web' } },
];

export interface LabOptions {
  /** Netns name prefix; every netns the lab makes starts with it. Default "tessera-". */
  prefix?: string;
  /** Where lab.json and run/ (daemon dirs, sockets, logs) go. Default: defaultStateDir(prefix), i.e. <repo>/.lab for "tessera-", else /tmp/<prefix>lab. */
  stateDir?: string;
  /** Number of nodes, named node1..nodeN. Default 2. */
  nodes?: number;
  /** Node names instead of node1..nodeN (their count wins over `nodes`). */
  nodeNames?: string[];
  /** Underlay placement; default: the lab's own underlay 192.168.77.0/24. */
  network?: LabNetwork;
  /** Cluster, service and join CIDRs for the watcher and agents (default CIDRS). */
  cidrs?: ClusterCidrs;
  /** Extra tessera-watcher flags (e.g. --sb for the interconnect controller). */
  watcherArgs?: string[];
  /** NetworkPolicies to create once the pods run (make lab: DEFAULT_POLICY); the checks expect what they say. */
  policies?: LabPolicySpec[];
  /** Run a gateway node (tessera-gateway run on br-phy) with an external host on the underlay (make lab: true). */
  gateway?: boolean | Omit<GatewayOptions, 'binDir'>;
  /** Pods to create. Default: web-<i> on node<i> for every node, plus client on node1. */
  pods?: LabPodSpec[];
  /** Services. Default (with default pods): default/web 10.96.0.10:80 -> pods labelled app=web, port 8080. */
  services?: LabServiceSpec[];
  /** Start the demo TCP server (port 8080) in every pod. Default true. */
  podServers?: boolean;
  /** Add two kubeovn.io Vpcs with overlapping Subnets and a pod of each on every node (lab/vpc.ts). Default false. */
  vpc?: boolean;
  /** Add a hypervisor with two VMs running nested nodes and pods (lab/nested.ts). Default false. */
  nested?: boolean;
  /** 'shared': a real Neutron on the lab's own NB/SB, its routers and VMs, and the seed's net2 on a Neutron Vpc (lab/openstack/shared.ts). */
  openstack?: 'shared';
  /** Directory with the built tessera-* executables. Default <repo>/dist/bin. */
  binDir?: string;
  /** On a failed start, leave everything up for inspection (clean with teardownLab / make lab-down). Default false. */
  keepOnFailure?: boolean;
  /** Progress lines. Default: silent. */
  log?: (msg: string) => void;
  /**
   * The OVSDB PKI (lab/pki.ts) directory, made there if missing: NB/SB on pssl:, every client on ssl:. Default
   * <stateDir>/pki; false: plain tcp:.
   */
  pki?: string | false;
}

/** The options, checked and with every default filled in. */
export interface LabSettings {
  prefix: string;
  names: LabNames;
  nodeNames: string[];
  cidrs: ClusterCidrs;
  net: LabNetwork;
  underlay: { netns: string; cidr: string };
  /** Prefix length of the underlay CIDR. */
  plen: number;
  /** Underlay-side veth name for the central ("central") or a node. */
  vethShort: (n: string) => string;
  podSpecs: LabPodSpec[];
  serviceSpecs: LabServiceSpec[];
  policies: LabPolicySpec[];
  gateway: Omit<GatewayOptions, 'binDir'> | undefined;
  podServers: boolean;
  vpc: boolean;
  nested: boolean;
  openstack?: 'shared';
  watcherArgs: string[];
  binDir: string;
  pkiDir: string | undefined;
  stateDir: string;
  runDir: string;
  labFilePath: string;
  log: (msg: string) => void;
}

/** What the steps bring up, filled in as they run. */
export interface LabContext extends LabSettings {
  pki?: LabPki;
  central?: Central;
  nodes: OvsNode[];
  api?: ApiServerInfo;
  kube?: UnixKubeClient;
  /** Node name -> the pod subnet the watcher gave it. */
  subnets: Map<string, string>;
  /** Starts tessera-watcher with the lab's flags; returns its PID. */
  launchWatcher?: () => number;
  cniConf: Map<string, NodeCniConfig>;
  /** "<ns>/<pod>" -> the Pod object's uid (CNI DEL needs it again). */
  uids: Map<string, string>;
  figures: Required<StartFigures>;
  pods: LabFile['pods'];
  services: LabFile['services'];
  /** lab.json's content, once the describe step has run; later steps add to it. */
  file?: LabFile;
}

/** What an earlier step set up; fails with the step order at fault rather than a TypeError. */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`lab: ${what} is not up yet (a step runs before the one that starts it)`);
  return value;
}

export const DEFAULT_PREFIX = MAKE_LAB_PREFIX;

const hostIp = (subnet: string, host: number): string => subnet.replace(/\.0\/\d+$/, `.${host}`);

export function labSettings(opts: LabOptions): LabSettings {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  checkPrefix(prefix);
  const nodeCount = opts.nodeNames?.length ?? opts.nodes ?? 2;
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 8) throw new Error(`lab nodes: ${nodeCount} (want 1..8)`);
  const nodeNames = opts.nodeNames ?? Array.from({ length: nodeCount }, (_, i) => nodeName(i));
  for (const n of nodeNames) if (!DNS1123.test(n)) throw new Error(`lab node name ${JSON.stringify(n)} is not a DNS-1123 label`);
  const names = labNames(prefix);
  const net: LabNetwork = opts.network ?? { centralIp: UNDERLAY.central, nodeIp: (i) => hostIp(UNDERLAY.cidr, UNDERLAY.nodeBase + i + 1) };
  const underlay = net.sharedUnderlay ?? { netns: names.underlay, cidr: UNDERLAY.cidr };
  const podSpecs = opts.pods ?? defaultPods(nodeNames);
  checkPods(podSpecs, nodeNames);
  const stateDir = resolve(opts.stateDir ?? defaultStateDir(prefix));
  return {
    prefix, names, nodeNames, net, underlay,
    cidrs: opts.cidrs ?? CIDRS,
    plen: Number(underlay.cidr.split('/')[1]),
    // Underlay-side veth names must fit IFNAMSIZ (15) and be unique on the underlay bridge.
    vethShort: (n) => (!net.vethTag ? n : n === 'central' ? `${net.vethTag}-c` : `${net.vethTag}-n${nodeNames.indexOf(n) + 1}`),
    podSpecs,
    serviceSpecs: opts.services ?? (opts.pods ? [] : DEFAULT_SERVICES),
    policies: opts.policies ?? [],
    gateway: opts.gateway === true ? {} : opts.gateway || undefined,
    podServers: opts.podServers ?? true,
    vpc: opts.vpc ?? false,
    nested: opts.nested ?? false,
    openstack: opts.openstack,
    watcherArgs: opts.watcherArgs ?? [],
    binDir: opts.binDir ?? BIN_DIR,
    pkiDir: opts.pki === false ? undefined : opts.pki ?? join(stateDir, 'pki'),
    stateDir,
    runDir: join(stateDir, 'run'),
    labFilePath: join(stateDir, 'lab.json'),
    log: opts.log ?? ((): void => undefined),
  };
}

export function newLabContext(s: LabSettings): LabContext {
  return { ...s, nodes: [], subnets: new Map(), cniConf: new Map(), uids: new Map(), figures: { podWiringMs: {} }, pods: [], services: [] };
}

/** One step of startLab: brings up one piece of the lab (lab/steps.ts lists them in order). */
export interface LabStep {
  /** What it brings up. */
  name: string;
  run(ctx: LabContext): Promise<void>;
  /** Its reachability checks, from lab.json alone (make lab-status runs them too). */
  check?(file: LabFile, o: { servers: boolean }): Promise<CheckResult[]>;
}
