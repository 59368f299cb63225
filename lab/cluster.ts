// startLab(): brings up a whole lab cluster (underlay, OVN central, N nodes, pods, services) and returns a
// handle whose stop() removes everything. Used by `make lab` (lab/main.ts) and by e2e tests of other components.
import { existsSync, mkdirSync, rmSync, readdirSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { macFromIPv4 } from '../lib/names.js';
import type { PodNetwork } from '../lib/kube/annotations.js';
import { resolveComponents, type Components } from './components.js';
import { alive, livePids, spawnDaemon, stopDaemons } from './daemon.js';
import { run, type RunOptions } from './exec.js';
import { writeLabFile, type LabFile } from './lab-file.js';
import { addAddr, addNetns, delNetns, listNetns, netnsPids } from './netns.js';
import { chassisNames, nbctl, sbctl, startCentral, type Central } from './ovn-central.js';
import { startOvsNode, vsctl, type OvsNode } from './ovs-node.js';
import { createPodNetns, cnitoolContainerId, netnsPath, scriptWirePod, type LabPodSpec } from './pods.js';
import { POD_SERVER_PORT, formatReport, runChecks, type CheckResult } from './report.js';
import { scriptClusterRouter, scriptNodeSwitch, scriptPodPort, scriptServiceLb } from './nb-script.js';
import { UNDERLAY_NIC, createUnderlay, plugUnderlay } from './underlay.js';
import { waitFor } from './wait.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_STATE_DIR = join(REPO_ROOT, '.lab');
export const DEFAULT_PREFIX = 'tessera-';

/** Lab-private addressing: all of it lives inside the lab's netns. */
const UNDERLAY = { cidr: '192.168.77.0/24', plen: 24, central: '192.168.77.2', nodeBase: 10 };
export const CLUSTER_CIDR = '10.244.0.0/16';
export const SERVICE_CIDR = '10.96.0.0/16';
export const JOIN_CIDR = '100.64.0.0/16';
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
  /** Where lab.json and run/ (daemon dirs, sockets, logs) go. Default <repo>/.lab. */
  stateDir?: string;
  /** Number of nodes, named node1..nodeN. Default 2. */
  nodes?: number;
  /** Pods to create. Default: web-<i> on node<i> for every node, plus client on node1. */
  pods?: LabPodSpec[];
  /** Services. Default: default/web 10.96.0.10:80 -> pods labelled app=web, port 8080. */
  services?: LabServiceSpec[];
  /** Real components vs script logic; see components.ts. */
  components?: Partial<Components>;
  /** Start the demo TCP server (port 8080) in every pod. Default true. */
  podServers?: boolean;
  /** On a failed start, leave everything up for inspection (clean with teardownLab / make lab-down). Default false. */
  keepOnFailure?: boolean;
  /** Progress lines. Default: silent. */
  log?: (msg: string) => void;
}

export interface Lab {
  readonly file: LabFile;
  readonly stateDir: string;
  readonly runDir: string;
  readonly labFilePath: string;
  readonly central: Central;
  readonly nodes: OvsNode[];
  nbctl(args: string[]): Promise<string>;
  sbctl(args: string[]): Promise<string>;
  vsctl(node: string, args: string[]): Promise<string>;
  /** Runs a command inside one of the lab's netns. */
  exec(netns: string, cmd: string, args: string[], opts?: Omit<RunOptions, 'netns'>): Promise<string>;
  /** Performs the reachability checks now. */
  check(): Promise<CheckResult[]>;
  report(checks: CheckResult[], elapsedMs: number): string;
  /** PIDs of the lab's daemons that are alive now (from its pidfiles). */
  pids(): number[];
  stop(): Promise<void>;
}

export const nodeName = (i: number): string => `node${i + 1}`;

export function defaultPods(nodes: number): LabPodSpec[] {
  const pods: LabPodSpec[] = [];
  for (let i = 0; i < nodes; i++) pods.push({ namespace: 'default', name: `web-${i + 1}`, node: nodeName(i), labels: { app: 'web' } });
  pods.push({ namespace: 'default', name: 'client', node: nodeName(0), labels: { app: 'client' } });
  return pods;
}

export const DEFAULT_SERVICES: LabServiceSpec[] = [
  { namespace: 'default', name: 'web', clusterIP: '10.96.0.10', port: 80, targetPort: POD_SERVER_PORT, selector: { app: 'web' } },
];

interface Names {
  underlay: string;
  central: string;
  node: (name: string) => string;
  pod: (p: { namespace: string; name: string }) => string;
  /** CNI network name, also the key of cnitool's cache entries in /var/lib/cni. */
  cniNetwork: string;
}

export function labNames(prefix: string): Names {
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

/**
 * Removes everything a lab with this prefix/state dir may have left, even after a crashed start: daemons
 * from its pidfiles, its netns (which takes their veths along), cnitool cache entries, the run dir and lab.json.
 * Returns leftover notes (processes still in a netns that the lab did not start) for the caller to report.
 */
export async function teardownLab(o: { prefix?: string; stateDir?: string } = {}): Promise<string[]> {
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  checkPrefix(prefix);
  const stateDir = resolve(o.stateDir ?? DEFAULT_STATE_DIR);
  const runDir = join(stateDir, 'run');
  const notes: string[] = [];
  await stopDaemons(runDir);
  for (const ns of (await listNetns()).filter((n) => n.startsWith(prefix))) {
    const pids = await netnsPids(ns).catch(() => []);
    if (pids.length) notes.push(`netns ${ns} still had processes the lab did not start: ${pids.join(' ')} (not killed)`);
    await delNetns(ns);
  }
  const cache = '/var/lib/cni/results';
  const cniNet = labNames(prefix).cniNetwork;
  if (existsSync(cache)) for (const f of readdirSync(cache)) if (f.startsWith(`${cniNet}-`)) unlinkSync(join(cache, f));
  rmSync(runDir, { recursive: true, force: true });
  rmSync(join(stateDir, 'lab.json'), { force: true });
  return notes;
}

const subnetOf = (i: number): string => `10.244.${i + 1}.0/24`;
const hostIp = (subnet: string, host: number): string => subnet.replace(/\.0\/\d+$/, `.${host}`);

export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const t0 = Date.now();
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  checkPrefix(prefix);
  const nodeCount = opts.nodes ?? 2;
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 8) throw new Error(`lab nodes: ${nodeCount} (want 1..8)`);
  const components = resolveComponents(opts.components);
  const podSpecs = opts.pods ?? defaultPods(nodeCount);
  const serviceSpecs = opts.services ?? (opts.pods ? [] : DEFAULT_SERVICES);
  const podServers = opts.podServers ?? true;
  const log = opts.log ?? ((): void => undefined);
  const stateDir = resolve(opts.stateDir ?? DEFAULT_STATE_DIR);
  const runDir = join(stateDir, 'run');
  const labFilePath = join(stateDir, 'lab.json');
  const names = labNames(prefix);
  const nodeNames = Array.from({ length: nodeCount }, (_, i) => nodeName(i));
  const dns1123 = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
  const seen = new Set<string>();
  for (const p of podSpecs) {
    for (const [what, v] of [['namespace', p.namespace], ['name', p.name]]) {
      if (!dns1123.test(v)) throw new Error(`lab pod ${p.namespace}/${p.name}: ${what} ${JSON.stringify(v)} is not a DNS-1123 label`);
    }
    if (seen.has(`${p.namespace}/${p.name}`)) throw new Error(`lab pod ${p.namespace}/${p.name} listed twice`);
    seen.add(`${p.namespace}/${p.name}`);
    if (!nodeNames.includes(p.node)) throw new Error(`lab pod ${p.namespace}/${p.name}: node ${p.node} is not one of ${nodeNames.join(', ')}`);
  }

  const notes = await teardownLab({ prefix, stateDir });
  for (const n of notes) log(`warning: ${n}`);
  mkdirSync(runDir, { recursive: true });

  const stop = async (): Promise<void> => {
    const left = await teardownLab({ prefix, stateDir });
    for (const n of left) log(`warning: ${n}`);
  };

  try {
    log(`underlay ${names.underlay} (${UNDERLAY.cidr}), central ${names.central}, ${nodeCount} node netns`);
    await createUnderlay(names.underlay);
    await addNetns(names.central);
    await plugUnderlay(names.underlay, names.central, 'central');
    await addAddr(names.central, UNDERLAY_NIC, `${UNDERLAY.central}/${UNDERLAY.plen}`);
    for (const n of nodeNames) {
      await addNetns(names.node(n));
      await plugUnderlay(names.underlay, names.node(n), n);
    }

    log('OVN central: NB, SB, northd');
    const central = await startCentral({ dir: join(runDir, 'central'), netns: names.central, ip: UNDERLAY.central });
    log('nodes: ovsdb-server, ovs-vswitchd (netdev), br-phy, ovn-controller');
    const nodes = await Promise.all(nodeNames.map((n, i) => startOvsNode({
      name: n, netns: names.node(n), dir: join(runDir, n), cidr: `${UNDERLAY.cidr.replace(/\.0\/\d+$/, `.${UNDERLAY.nodeBase + i + 1}`)}/${UNDERLAY.plen}`,
      sbRemote: central.sbTcp,
    })));
    const nodeByName = new Map(nodes.map((n) => [n.name, n]));
    const ms = await waitFor(`chassis ${nodeNames.join(', ')} in SB`, async () => {
      const have = await chassisNames(central);
      return nodeNames.every((n) => have.includes(n));
    }, 30_000);
    await Promise.all(nodes.map((n) => waitFor(`br-int on ${n.name}`, async () => (await vsctl(n, ['list-br'])).split('\n').includes('br-int'), 10_000)));
    log(`all chassis registered (${ms} ms after the last ovn-controller started)`);

    const subnets = new Map(nodeNames.map((n, i) => [n, subnetOf(i)]));
    if (!components.watcher) {
      await scriptClusterRouter(central);
      for (const n of nodeNames) {
        const s = subnets.get(n) as string;
        await scriptNodeSwitch(central, n, s, hostIp(s, 1));
      }
    }

    log(`pods: ${podSpecs.map((p) => `${p.namespace}/${p.name}@${p.node}`).join(' ')}`);
    const nextHost = new Map(nodeNames.map((n) => [n, 3]));
    const pods: LabFile['pods'] = [];
    const podJobs: Array<Promise<void>> = [];
    for (const p of podSpecs) {
      const subnet = subnets.get(p.node) as string;
      const host = nextHost.get(p.node) as number;
      nextHost.set(p.node, host + 1);
      const ip = hostIp(subnet, host);
      const gw = hostIp(subnet, 1);
      const net: PodNetwork = {
        ip_addresses: [`${ip}/${subnet.split('/')[1]}`], mac_address: macFromIPv4(ip), gateway_ips: [gw],
        routes: [], logical_switch: p.node, mtu: POD_MTU,
      };
      const netns = names.pod(p);
      const containerId = cnitoolContainerId(netnsPath(netns));
      const node = nodeByName.get(p.node) as OvsNode;
      const entry = { namespace: p.namespace, name: p.name, node: p.node, netns, ip, mac: net.mac_address, hostIface: '' };
      pods.push(entry);
      podJobs.push((async () => {
        await createPodNetns(netns);
        await scriptPodPort(central, { node: p.node, namespace: p.namespace, pod: p.name, ip, mac: net.mac_address });
        entry.hostIface = await scriptWirePod({ pod: p, netns, node, net, mtu: POD_MTU, containerId, uid: `lab-${netns}` });
        if (podServers) {
          spawnDaemon({ dir: runDir, name: `pod-server-${netns}`, netns, cwd: REPO_ROOT, cmd: process.execPath,
            args: ['--import', 'tsx', join(REPO_ROOT, 'lab', 'pod-server.ts'), '--name', `${p.namespace}/${p.name}`, '--port', String(POD_SERVER_PORT), '--lab-run', runDir] });
        }
      })());
    }
    await Promise.all(podJobs);

    const services: LabFile['services'] = [];
    for (const s of serviceSpecs) {
      const backends = podSpecs.flatMap((p, i) => Object.entries(s.selector).every(([k, v]) => p.labels?.[k] === v) ? [`${pods[i].ip}:${s.targetPort}`] : []);
      if (!components.watcher) {
        await scriptServiceLb(central, { name: `lab_svc_${s.namespace}_${s.name}`, vip: s.clusterIP, port: s.port, backends, nodes: nodeNames });
      }
      services.push({ namespace: s.namespace, name: s.name, clusterIP: s.clusterIP, ports: [{ name: 'tcp', protocol: 'TCP', port: s.port, targetPort: s.targetPort }] });
    }

    if (podServers) {
      await Promise.all(pods.map((p) => waitFor(`pod server in ${p.netns}`, async () =>
        (await run('ss', ['-Htln', `sport = :${POD_SERVER_PORT}`], { netns: p.netns })) !== '', 15_000)));
    }

    const file: LabFile = {
      prefix, createdAt: new Date().toISOString(), components,
      apiserver: null,
      nb: { remotes: [central.nbTcp], unixSocket: central.nbSocket },
      sb: { remotes: [central.sbTcp], unixSocket: central.sbSocket },
      central: { netns: names.central, ip: UNDERLAY.central, runDir: central.dir },
      underlay: { netns: names.underlay, cidr: UNDERLAY.cidr },
      nodes: nodes.map((n) => ({ name: n.name, netns: n.netns, ovsRunDir: n.dir, ovsDbSocket: n.dbSocket, ip: n.ip, subnet: subnets.get(n.name) as string })),
      pods, services,
    };
    writeLabFile(labFilePath, file);
    log(`lab.json written (${labFilePath}) ${Date.now() - t0} ms after start`);

    return {
      file, stateDir, runDir, labFilePath, central, nodes,
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
      check: () => runChecks(file, { servers: podServers }),
      report: (checks, elapsedMs) => formatReport(file, checks, elapsedMs),
      pids: () => livePids(runDir).filter(alive),
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
