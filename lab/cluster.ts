// startLab(): brings up a whole lab cluster (underlay, OVN central, N nodes, API server, pods, services) and
// returns a handle whose stop() removes everything. Used by `make lab` (lab/main.ts) and by e2e tests.
import { existsSync, mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { INTEGRATION_BRIDGE, macFromIPv4, podPort } from '../lib/ovn/names.js';
import { NODE_SUBNET_ANNOTATION, POD_NETWORKS_ANNOTATION, parsePodNetworks, type PodNetwork } from '../lib/kube/annotations.js';
import { CNI_CACHE_RESULTS, cnitool, containerdCniArgs, writeNodeConflist, type NodeCniConfig } from './cni.js';
import { resolveComponents, type Components } from './components.js';
import { alive, livePids, readPid, spawnDaemon, stopDaemons } from './daemon.js';
import { run, type RunOptions } from './exec.js';
import { kubeClient, nodePath, podPath, startApiServer, type ApiServerInfo, type KubeObject, type UnixKubeClient } from './kube.js';
import { writeLabFile, type LabFile } from './lab-file.js';
import { scriptClusterRouter, scriptNodeSwitch, scriptPodPort, scriptServiceLb } from './nb-script.js';
import { addAddr, addNetns, delNetns, listNetns, netnsPids } from './netns.js';
import { SB_PORT, chassisNames, nbctl, sbctl, startCentral, type Central } from './ovn-central.js';
import { ensureLabPki } from './pki.js';
import { startOvsNode, vsctl, type OvsNode } from './ovs-node.js';
import { BIN_DIR, CNITOOL, MAKE_LAB_PREFIX, REPO_ROOT, defaultStateDir } from './paths.js';
import { POD_IFNAME, cnitoolContainerId, createPodNetns, hostVethName, netnsPath, scriptWirePod, type LabPodSpec } from './pods.js';
import { POD_SERVER_PORT, formatReport, runChecks, tcpExchange, type CheckResult, type StartFigures } from './report.js';
import { addEgressMatrix, egressChecks } from './egress-matrix.js';
import { addLabGateway, gatewayChecks, type GatewayOptions } from './gateway.js';
import { networkPoliciesPath, networkPolicyObject, verdict, type LabPolicySpec } from './policy.js';
import { AGENT_HEALTH_PORT, CIDRS, WATCHER_HEALTH_PORT, httpOk, startAgent, startWatcher, type ClusterCidrs } from './tessera.js';
import { UNDERLAY_NIC, createUnderlay, plugUnderlay } from './underlay.js';
import { GiveUp, waitFor } from './wait.js';

export { DEFAULT_STATE_DIR, REPO_ROOT, defaultStateDir } from './paths.js';
export type { LabPodSpec } from './pods.js';
export const DEFAULT_PREFIX = MAKE_LAB_PREFIX;

/** Lab-private addressing: all of it lives inside the lab's netns. */
const UNDERLAY = { cidr: '192.168.77.0/24', plen: 24, central: '192.168.77.2', nodeBase: 10 };

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
export { CIDRS };
export const POD_MTU = 1400;

export interface LabServiceSpec {
  namespace: string;
  name: string;
  clusterIP: string;
  port: number;
  targetPort: number;
  /** Pods whose labels include all of these back the service. */
  selector: Record<string, string>;
}

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
  /** Real components vs script logic; see components.ts. */
  components?: Partial<Components>;
  /** Start the demo TCP server (port 8080) in every pod. Default true. */
  podServers?: boolean;
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

export interface Lab {
  readonly file: LabFile;
  readonly stateDir: string;
  readonly runDir: string;
  readonly labFilePath: string;
  readonly central: Central;
  readonly nodes: OvsNode[];
  /** REST client for the API test server over its unix socket (undefined when the lab runs without it). */
  readonly kube: UnixKubeClient | undefined;
  nbctl(args: string[]): Promise<string>;
  sbctl(args: string[]): Promise<string>;
  vsctl(node: string, args: string[]): Promise<string>;
  /** Runs a command inside one of the lab's netns. */
  exec(netns: string, cmd: string, args: string[], opts?: Omit<RunOptions, 'netns'>): Promise<string>;
  /**
   * Adds a pod the way kubelet + containerd would (Pod object, netns, cnitool ADD, status) and records it in
   * lab.json. Services' EndpointSlices are written once at start and are not updated.
   */
  addPod(p: LabPodSpec): Promise<LabPod>;
  /** Removes a pod: cnitool DEL (or the script's unwiring), Pod object, netns; updates lab.json. */
  deletePod(namespace: string, name: string): Promise<void>;
  /** Performs the reachability checks now. */
  check(): Promise<CheckResult[]>;
  report(checks: CheckResult[], elapsedMs: number): string;
  /** What the lab measured while starting (per-pod wiring time). */
  readonly figures: Required<StartFigures>;
  /** PIDs of the lab's daemons that are alive now (from its pidfiles). */
  pids(): number[];
  /** Stops tessera-watcher with `signal` (SIGKILL: a crash; its children, e.g. a managed ovn-ic, stay). */
  stopWatcher(signal?: NodeJS.Signals): Promise<void>;
  /** Starts tessera-watcher again with the same flags and waits for /readyz; returns its PID. */
  startWatcher(): Promise<number>;
  /** stopWatcher then startWatcher. */
  restartWatcher(signal?: NodeJS.Signals): Promise<number>;
  stop(): Promise<void>;
}

export type LabPod = LabFile['pods'][number];

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

export const DEFAULT_SERVICES: LabServiceSpec[] = [
  { namespace: 'default', name: 'web', clusterIP: '10.96.0.10', port: 80, targetPort: POD_SERVER_PORT, selector: { app: 'web' } },
];

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

function checkPrefix(prefix: string): void {
  if (!/^[a-z][a-z0-9-]{0,15}-$/.test(prefix)) throw new Error(`lab prefix ${JSON.stringify(prefix)}: want lowercase letters, digits and dashes, ending in "-" (e.g. "tessera-")`);
}

const DNS1123 = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function checkPods(pods: LabPodSpec[], nodeNames: string[]): void {
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

/**
 * Removes everything a lab with this prefix/state dir may have left, even after a crashed start: daemons
 * from its pidfiles, its netns (which takes their veths along), cnitool cache entries, the run dir and lab.json.
 * Returns leftover notes (processes still in a netns that the lab did not start) for the caller to report.
 */
export async function teardownLab(o: { prefix?: string; stateDir?: string } = {}): Promise<string[]> {
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  checkPrefix(prefix);
  const stateDir = resolve(o.stateDir ?? defaultStateDir(prefix));
  const runDir = join(stateDir, 'run');
  const notes: string[] = [];
  await stopDaemons(runDir);
  for (const ns of (await listNetns()).filter((n) => n.startsWith(prefix))) {
    const pids = await netnsPids(ns).catch(() => []);
    if (pids.length) notes.push(`netns ${ns} still had processes the lab did not start: ${pids.join(' ')} (not killed)`);
    await delNetns(ns);
  }
  // <prefix>net-* of this lab, and <prefix><cluster>-net-* of the clusters of a multi-cluster lab under it.
  const cacheEntry = new RegExp(`^${prefix}([a-z0-9]+-)?net-`);
  if (existsSync(CNI_CACHE_RESULTS)) {
    for (const f of readdirSync(CNI_CACHE_RESULTS)) if (cacheEntry.test(f)) unlinkSync(join(CNI_CACHE_RESULTS, f));
  }
  rmSync(runDir, { recursive: true, force: true });
  rmSync(join(stateDir, 'lab.json'), { force: true });
  return notes;
}

/**
 * Like Promise.all, but waits for every job to finish before throwing the first error, so that teardown after a
 * failure never races a sibling job still creating netns or daemons.
 */
async function allSettledOrThrow<T>(jobs: Array<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(jobs);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

const subnetOf = (i: number): string => `10.244.${i + 1}.0/24`;
const hostIp = (subnet: string, host: number): string => subnet.replace(/\.0\/\d+$/, `.${host}`);
const matches = (labels: Record<string, string> | undefined, selector: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const t0 = Date.now();
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  checkPrefix(prefix);
  const nodeCount = opts.nodeNames?.length ?? opts.nodes ?? 2;
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 8) throw new Error(`lab nodes: ${nodeCount} (want 1..8)`);
  const components = resolveComponents(opts.components);
  const nodeNames = opts.nodeNames ?? Array.from({ length: nodeCount }, (_, i) => nodeName(i));
  for (const n of nodeNames) if (!DNS1123.test(n)) throw new Error(`lab node name ${JSON.stringify(n)} is not a DNS-1123 label`);
  const cidrs = opts.cidrs ?? CIDRS;
  const net: LabNetwork = opts.network ?? { centralIp: UNDERLAY.central, nodeIp: (i) => hostIp(UNDERLAY.cidr, UNDERLAY.nodeBase + i + 1) };
  const underlay = net.sharedUnderlay ?? { netns: labNames(prefix).underlay, cidr: UNDERLAY.cidr };
  const plen = Number(underlay.cidr.split('/')[1]);
  // Underlay-side veth names must fit IFNAMSIZ (15) and be unique on the underlay bridge.
  const vethShort = (n: string): string => (!net.vethTag ? n : n === 'central' ? `${net.vethTag}-c` : `${net.vethTag}-n${nodeNames.indexOf(n) + 1}`);
  const policies = opts.policies ?? [];
  const gatewayOpts = opts.gateway === true ? {} : opts.gateway || undefined;
  const podSpecs = opts.pods ?? defaultPods(nodeNames);
  checkPods(podSpecs, nodeNames);
  const serviceSpecs = opts.services ?? (opts.pods ? [] : DEFAULT_SERVICES);
  const podServers = opts.podServers ?? true;
  const binDir = opts.binDir ?? BIN_DIR;
  const log = opts.log ?? ((): void => undefined);
  const stateDir = resolve(opts.stateDir ?? defaultStateDir(prefix));
  const runDir = join(stateDir, 'run');
  const labFilePath = join(stateDir, 'lab.json');
  const names = labNames(prefix);

  const needed = [...(components.watcher ? [join(binDir, 'tessera-watcher')] : []),
    ...(components.agent ? [join(binDir, 'tessera-agent'), join(binDir, 'tessera-cni'), CNITOOL] : [])];
  const missing = needed.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`lab: missing ${missing.join(', ')} (run make build; cnitool comes from tools/setup.sh)`);

  const notes = await teardownLab({ prefix, stateDir });
  for (const n of notes) log(`warning: ${n}`);
  mkdirSync(runDir, { recursive: true });

  const stop = async (): Promise<void> => {
    const left = await teardownLab({ prefix, stateDir });
    for (const n of left) log(`warning: ${n}`);
  };

  try {
    log(`underlay ${underlay.netns} (${underlay.cidr}${net.sharedUnderlay ? ', shared' : ''}), central ${names.central}, ${nodeCount} node netns`);
    if (!net.sharedUnderlay) await createUnderlay(underlay.netns);
    await addNetns(names.central);
    await plugUnderlay(underlay.netns, names.central, vethShort('central'));
    await addAddr(names.central, UNDERLAY_NIC, `${net.centralIp}/${plen}`);
    for (const n of nodeNames) {
      await addNetns(names.node(n));
      await plugUnderlay(underlay.netns, names.node(n), vethShort(n));
    }

    const pki = opts.pki === false ? undefined : await ensureLabPki(opts.pki ?? join(stateDir, 'pki'));
    log(`OVN central: NB, SB, northd (${pki ? `ssl, PKI ${pki.dir}` : 'tcp'})`);
    const central = await startCentral({ dir: join(runDir, 'central'), netns: names.central, ip: net.centralIp, tls: pki?.roles.central });
    let api: ApiServerInfo | undefined;
    let kube: UnixKubeClient | undefined;
    const apiStarted = components.apiserver
      ? startApiServer({ repoRoot: REPO_ROOT, dir: central.dir, netns: names.central, ip: net.centralIp, unixSocket: join(runDir, 'apiserver.sock') })
      : undefined;
    // Awaited below; the no-op handler keeps an early failure from being an unhandled rejection meanwhile.
    apiStarted?.catch(() => undefined);
    log('nodes: ovsdb-server, ovs-vswitchd (netdev), br-phy, ovn-controller');
    const nodes = await allSettledOrThrow(nodeNames.map((n, i) => startOvsNode({
      name: n, netns: names.node(n), dir: join(runDir, n), cidr: `${net.nodeIp(i)}/${plen}`,
      sbRemote: central.sbRemote, tls: pki?.roles.node,
    })));
    const nodeByName = new Map(nodes.map((n) => [n.name, n]));
    const ms = await waitFor(`chassis ${nodeNames.join(', ')} in SB`, async () => {
      const have = await chassisNames(central);
      return nodeNames.every((n) => have.includes(n));
    }, 30_000);
    await Promise.all(nodes.map((n) => waitFor(`br-int on ${n.name}`, async () => (await vsctl(n, ['list-br'])).split('\n').includes('br-int'), 10_000)));
    log(`all chassis registered (${ms} ms after the last ovn-controller started)`);

    // Node subnets: the lab's own allocation in script mode, the watcher's annotation otherwise.
    const subnets = new Map<string, string>();
    let launchWatcher: (() => number) | undefined;
    if (apiStarted) {
      api = await apiStarted;
      kube = kubeClient(api);
      log(`API test server ${api.url} (root netns: ${api.unixSocket})`);
      for (const [i, n] of nodeNames.entries()) {
        const annotations: Record<string, string> = components.watcher ? {} : { [NODE_SUBNET_ANNOTATION]: subnetOf(i) };
        await kube.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: n, labels: { 'kubernetes.io/hostname': n, 'kubernetes.io/os': 'linux' }, annotations } });
        await kube.patch(`${nodePath(n)}/status`, { status: {
          addresses: [{ type: 'InternalIP', address: (nodeByName.get(n) as OvsNode).ip }, { type: 'Hostname', address: n }],
          conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'lab node' }],
        } }, 'merge');
      }
    }
    if (components.watcher && api) {
      log('tessera-watcher');
      const a = api;
      // The SB port is a control endpoint too, though this watcher only talks to NB.
      launchWatcher = () => startWatcher({ binDir, dir: central.dir, netns: names.central, apiserverUrl: a.url, tokenFile: a.tokenFile, nbRemotes: [central.nbRemote], cidrs,
        tls: pki?.roles.watcher, extraArgs: ['--protected-endpoint', `${net.centralIp}:${SB_PORT}`,
          '--protected-node-port', String(AGENT_HEALTH_PORT), ...(opts.watcherArgs ?? [])] });
      const watcherPid = launchWatcher();
      const k = kube as UnixKubeClient;
      for (const n of nodeNames) {
        await waitFor(`tessera-watcher to annotate node ${n} with ${NODE_SUBNET_ANNOTATION}`, async () => {
          if (!alive(watcherPid)) throw new GiveUp(`tessera-watcher exited; see ${join(central.dir, 'tessera-watcher.log')}`);
          const s = (await k.get(nodePath(n))).metadata.annotations?.[NODE_SUBNET_ANNOTATION];
          if (s) subnets.set(n, s);
          return s !== undefined;
        }, 30_000);
      }
    } else {
      nodeNames.forEach((n, i) => subnets.set(n, subnetOf(i)));
      await scriptClusterRouter(central);
      for (const n of nodeNames) {
        const s = subnets.get(n) as string;
        await scriptNodeSwitch(central, n, s, hostIp(s, 1));
      }
    }

    const cniConf = new Map<string, NodeCniConfig>();
    if (components.agent && api) {
      log('tessera-agent on every node');
      const a = api;
      await allSettledOrThrow(nodes.map(async (n) => {
        const agentSocket = join(n.dir, 'cni.sock');
        cniConf.set(n.name, writeNodeConflist({ dir: n.dir, network: names.cniNetwork, agentSocket, logFile: join(n.dir, 'tessera-cni.log'), mtu: POD_MTU }));
        await startAgent({ binDir, node: n.name, dir: n.dir, netns: n.netns, apiserverUrl: a.url, tokenFile: a.tokenFile, nbRemotes: [central.nbRemote],
          ovsDbSocket: n.dbSocket, cniSocket: agentSocket, mtu: POD_MTU, cidrs, tls: pki?.roles.node });
      }));
    }

    const nextHost = new Map(nodeNames.map((n) => [n, 3]));
    const figures: Required<StartFigures> = { podWiringMs: {} };
    const podDir = (netns: string): string => join(runDir, 'pods', netns);
    const cniArgsOf = (p: LabPodSpec, uid: string, containerId: string): string =>
      containerdCniArgs({ sandboxId: containerId, uid, namespace: p.namespace, name: p.name });
    const uids = new Map<string, string>();

    /** One pod, as kubelet + containerd would bring it up: Pod object, netns, CNI ADD, status, workload. */
    const bringUpPod = async (p: LabPodSpec): Promise<LabPod> => {
      const netns = names.pod(p);
      const node = nodeByName.get(p.node) as OvsNode;
      const containerId = cnitoolContainerId(netnsPath(netns));
      const entry: LabPod = { namespace: p.namespace, name: p.name, node: p.node, netns, ip: '', mac: '', hostIface: hostVethName(containerId, POD_IFNAME),
        ...(p.labels ? { labels: p.labels } : {}) };
      // Script mode allocates before the first await, so addresses follow the order pods are asked for.
      let scriptNet: PodNetwork | undefined;
      if (!components.watcher) {
        const subnet = subnets.get(p.node) as string;
        const host = nextHost.get(p.node) as number;
        nextHost.set(p.node, host + 1);
        const ip = hostIp(subnet, host);
        scriptNet = { ip_addresses: [`${ip}/${subnet.split('/')[1]}`], mac_address: macFromIPv4(ip), gateway_ips: [hostIp(subnet, 1)], routes: [], logical_switch: p.node, mtu: POD_MTU };
      }
      await createPodNetns(netns);
      mkdirSync(podDir(netns), { recursive: true });
      let uid = `lab-${netns}`;
      if (kube) {
        const annotations: Record<string, string> = scriptNet ? { [POD_NETWORKS_ANNOTATION]: JSON.stringify({ default: scriptNet }) } : {};
        const created = await kube.create<KubeObject>(`/api/v1/namespaces/${p.namespace}/pods`, {
          apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace, labels: p.labels ?? {}, annotations },
          spec: { nodeName: p.node, containers: [{ name: 'server', image: 'tessera-lab/pod-server' }] },
        });
        uid = created.metadata.uid ?? uid;
      }
      uids.set(`${p.namespace}/${p.name}`, uid);
      if (scriptNet) await scriptPodPort(central, { node: p.node, namespace: p.namespace, pod: p.name, ip: scriptNet.ip_addresses[0].split('/')[0], mac: scriptNet.mac_address });
      const tWire = Date.now();
      if (components.agent) {
        const result = await cnitool({ verb: 'add', nodeNetns: node.netns, conf: cniConf.get(p.node) as NodeCniConfig, binDir, netnsPath: netnsPath(netns), cniArgs: cniArgsOf(p, uid, containerId) });
        const ip = result?.ips?.[0]?.address;
        if (!ip) throw new Error(`pod ${p.namespace}/${p.name}: CNI ADD returned no IP: ${JSON.stringify(result)}`);
        entry.ip = ip.split('/')[0];
        entry.mac = result?.interfaces?.find((i) => i.sandbox)?.mac ?? '';
      } else {
        let net = scriptNet;
        if (!net) {
          const k = kube as UnixKubeClient;
          await waitFor(`tessera-watcher to annotate pod ${p.namespace}/${p.name}`, async () => {
            net = parsePodNetworks((await k.get(podPath(p.namespace, p.name))).metadata.annotations?.[POD_NETWORKS_ANNOTATION])?.default;
            return net !== undefined;
          }, 30_000);
        }
        const n = net as PodNetwork;
        entry.ip = n.ip_addresses[0].split('/')[0];
        entry.mac = n.mac_address;
        entry.hostIface = await scriptWirePod({ pod: p, netns, node, net: n, mtu: n.mtu ?? POD_MTU, containerId, uid });
      }
      figures.podWiringMs[`${p.namespace}/${p.name}`] = Date.now() - tWire;
      if (kube) {
        await kube.patch(`${podPath(p.namespace, p.name)}/status`, { status: {
          phase: 'Running', podIP: entry.ip, podIPs: [{ ip: entry.ip }], hostIP: node.ip,
          conditions: [{ type: 'Ready', status: 'True' }],
        } }, 'merge');
      }
      if (podServers) {
        const dir = podDir(netns);
        spawnDaemon({ dir, name: 'pod-server', netns, cwd: REPO_ROOT, cmd: process.execPath,
          args: ['--import', 'tsx', join(REPO_ROOT, 'lab', 'pod-server.ts'), '--name', `${p.namespace}/${p.name}`, '--port', String(POD_SERVER_PORT), '--lab-run', dir] });
        await waitFor(`pod server in ${netns}`, async () => (await run('ss', ['-Htln', `sport = :${POD_SERVER_PORT}`], { netns })) !== '', 15_000);
      }
      return entry;
    };

    /** The reverse, as kubelet + containerd would: CNI DEL (the agent removes the port), then the Pod object. */
    const tearDownPod = async (entry: LabPod): Promise<void> => {
      const id = `${entry.namespace}/${entry.name}`;
      const node = nodeByName.get(entry.node) as OvsNode;
      const containerId = cnitoolContainerId(netnsPath(entry.netns));
      await stopDaemons(podDir(entry.netns));
      if (components.agent) {
        await cnitool({ verb: 'del', nodeNetns: node.netns, conf: cniConf.get(entry.node) as NodeCniConfig, binDir, netnsPath: netnsPath(entry.netns),
          cniArgs: cniArgsOf(entry, uids.get(id) ?? '', containerId) });
      } else {
        await vsctl(node, ['--if-exists', 'del-port', INTEGRATION_BRIDGE, entry.hostIface]);
      }
      if (!components.watcher) await nbctl(central, ['--if-exists', 'lsp-del', podPort(entry.namespace, entry.name)]);
      if (kube) await kube.delete(podPath(entry.namespace, entry.name));
      await delNetns(entry.netns);
      rmSync(podDir(entry.netns), { recursive: true, force: true });
    };

    log(`pods: ${podSpecs.map((p) => `${p.namespace}/${p.name}@${p.node}`).join(' ')}`);
    const pods: LabPod[] = await allSettledOrThrow(podSpecs.map(bringUpPod));

    const services: LabFile['services'] = [];
    for (const s of serviceSpecs) {
      const backends = pods.filter((_, i) => matches(podSpecs[i].labels, s.selector));
      const ports = [{ name: 'tcp', protocol: 'TCP' as const, port: s.port, targetPort: s.targetPort }];
      if (kube) {
        await kube.create(`/api/v1/namespaces/${s.namespace}/services`, {
          apiVersion: 'v1', kind: 'Service', metadata: { name: s.name, namespace: s.namespace },
          spec: { type: 'ClusterIP', clusterIP: s.clusterIP, clusterIPs: [s.clusterIP], selector: s.selector, ports },
        });
        // No kube-controller-manager in the lab: it writes the EndpointSlice the endpointslice controller would.
        await kube.create(`/apis/discovery.k8s.io/v1/namespaces/${s.namespace}/endpointslices`, {
          apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
          metadata: { name: `${s.name}-lab`, namespace: s.namespace, labels: { 'kubernetes.io/service-name': s.name, 'endpointslice.kubernetes.io/managed-by': 'tessera-lab' } },
          addressType: 'IPv4',
          endpoints: backends.map((b) => ({ addresses: [b.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: b.node,
            targetRef: { kind: 'Pod', namespace: b.namespace, name: b.name } })),
          ports: [{ name: 'tcp', protocol: 'TCP', port: s.targetPort }],
        });
      }
      if (!components.watcher) {
        await scriptServiceLb(central, { name: `lab_svc_${s.namespace}_${s.name}`, vip: s.clusterIP, port: s.port, backends: backends.map((b) => `${b.ip}:${s.targetPort}`), nodes: nodeNames });
      }
      services.push({ namespace: s.namespace, name: s.name, clusterIP: s.clusterIP, ports, type: 'ClusterIP', selector: s.selector });
    }

    const file: LabFile = {
      prefix, createdAt: new Date().toISOString(), components,
      apiserver: api ?? null,
      nb: { remotes: [central.nbRemote], unixSocket: central.nbSocket },
      sb: { remotes: [central.sbRemote], unixSocket: central.sbSocket },
      ...(pki ? { pki } : {}),
      central: { netns: names.central, ip: net.centralIp, runDir: central.dir },
      underlay: { netns: underlay.netns, cidr: underlay.cidr },
      nodes: nodes.map((n) => ({ name: n.name, netns: n.netns, ovsRunDir: n.dir, ovsDbSocket: n.dbSocket, ip: n.ip, subnet: subnets.get(n.name) as string })),
      pods, services,
    };

    if (policies.length > 0) {
      if (!kube || !components.watcher) throw new Error('lab policies need the API test server and tessera-watcher (components)');
      log(`network policies: ${policies.map((p) => `${p.namespace}/${p.name}`).join(' ')}`);
      for (const p of policies) await kube.create(networkPoliciesPath(p.namespace), networkPolicyObject(p));
      file.policies = policies;
      // Policies take effect asynchronously (watcher -> NB -> northd -> ovn-controller): wait until one pair they
      // deny is refused, so the report shows the policy in force rather than a race.
      const denied = pods.flatMap((a) => pods.filter((b) => a !== b && !verdict(policies, a, b, POD_SERVER_PORT).tcp).map((b) => [a, b] as const))[0];
      if (denied) {
        const [a, b] = denied;
        const ms = await waitFor(`policy to deny ${a.namespace}/${a.name} -> ${b.namespace}/${b.name}`, async () => !(await tcpExchange(a.netns, b.ip, POD_SERVER_PORT, 1)).ok, 30_000, 200);
        log(`policies in force ${ms} ms after creation`);
      }
    }

    const handle = { file, runDir, kube, nbctl: (args: string[]) => nbctl(central, args) };
    if (gatewayOpts) {
      log(`gateways on ${(gatewayOpts.nodes ?? nodeNames).join(', ')}: external host, tessera-gateway run, default/web as NodePort`);
      await addLabGateway(handle, { ...gatewayOpts, binDir });
      if (components.watcher) await addEgressMatrix(handle);
    }

    writeLabFile(labFilePath, file);
    log(`lab.json written (${labFilePath}) ${Date.now() - t0} ms after start`);

    const stopWatcher = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
      const old = readPid(join(central.dir, 'tessera-watcher.pid'));
      if (old === undefined || !alive(old)) return;
      process.kill(old, signal);
      await waitFor(`tessera-watcher (pid ${old}) to exit after ${signal}`, () => !alive(old), 15_000, 100);
    };
    const startWatcherAgain = async (): Promise<number> => {
      if (!launchWatcher) throw new Error('lab: this lab runs no tessera-watcher');
      const pid = launchWatcher();
      await waitFor(`tessera-watcher to be ready again (log: ${join(central.dir, 'tessera-watcher.log')})`, async () => {
        if (!alive(pid)) throw new GiveUp(`tessera-watcher exited; see ${join(central.dir, 'tessera-watcher.log')}`);
        return httpOk(names.central, WATCHER_HEALTH_PORT, '/readyz');
      }, 30_000, 200);
      return pid;
    };

    return {
      file, stateDir, runDir, labFilePath, central, nodes, kube,
      nbctl: (args) => nbctl(central, args),
      sbctl: (args) => sbctl(central, args),
      vsctl: (node, args) => {
        const n = nodeByName.get(node);
        if (!n) throw new Error(`no lab node ${node}`);
        return vsctl(n, args);
      },
      exec: (netns, cmd, args, o = {}) => {
        if (!netns.startsWith(prefix)) throw new Error(`netns ${netns} is not one of this lab's (prefix ${prefix})`);
        return run(cmd, args, { ...o, netns });
      },
      addPod: async (p) => {
        checkPods([...file.pods.map((x) => ({ namespace: x.namespace, name: x.name, node: x.node })), p], nodeNames);
        const entry = await bringUpPod(p);
        file.pods.push(entry);
        writeLabFile(labFilePath, file);
        return entry;
      },
      deletePod: async (namespace, name) => {
        const entry = file.pods.find((x) => x.namespace === namespace && x.name === name);
        if (!entry) throw new Error(`lab: no pod ${namespace}/${name}`);
        await tearDownPod(entry);
        file.pods.splice(file.pods.indexOf(entry), 1);
        writeLabFile(labFilePath, file);
      },
      check: async () => [...await runChecks(file, { servers: podServers }), ...await gatewayChecks(file), ...await egressChecks(file)],
      figures,
      report: (checks, elapsedMs) => formatReport(file, checks, elapsedMs, figures),
      pids: () => livePids(runDir).filter(alive),
      stopWatcher,
      startWatcher: startWatcherAgain,
      restartWatcher: async (signal = 'SIGTERM') => {
        await stopWatcher(signal);
        return startWatcherAgain();
      },
      stop,
    };
  } catch (err) {
    if (opts.keepOnFailure) {
      log(`lab start failed; left as is for inspection (logs under ${runDir})`);
    } else {
      log(`lab start failed, tearing down: ${(err as Error).message}`);
      await stop();
    }
    throw err;
  }
}
