// The handle startLab returns: the lab's description and clients, pods added and removed later, checks, the
// watcher stopped and started (a crash, an upgrade), and stop().
import { join } from 'node:path';
import { alive, livePids, readPid } from './daemon.js';
import { run, type RunOptions } from './exec.js';
import type { UnixKubeClient } from './kube.js';
import { need, type LabContext } from './lab-context.js';
import { writeLabFile, type LabFile } from './lab-file.js';
import { checkPods } from './naming.js';
import { nbctl, sbctl, type Central } from './ovn-central.js';
import { vsctl, type OvsNode } from './ovs-node.js';
import { bringUpPod, tearDownPod, type LabPod } from './pod-lifecycle.js';
import type { LabPodSpec } from './pods.js';
import { formatReport, type CheckResult, type StartFigures } from './report.js';
import { labChecks } from './steps.js';
import { WATCHER_HEALTH_PORT, httpOk } from './tessera.js';
import { GiveUp, waitFor } from './wait.js';

export interface Lab {
  readonly file: LabFile;
  readonly stateDir: string;
  readonly runDir: string;
  readonly labFilePath: string;
  readonly central: Central;
  readonly nodes: OvsNode[];
  /** REST client for the API test server over its unix socket. */
  readonly kube: UnixKubeClient;
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
  /** Removes a pod: cnitool DEL, Pod object, netns; updates lab.json. */
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

function watcherControl(c: LabContext, central: Central): Pick<Lab, 'stopWatcher' | 'startWatcher' | 'restartWatcher'> {
  const log = join(central.dir, 'tessera-watcher.log');
  const stopWatcher = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const old = readPid(join(central.dir, 'tessera-watcher.pid'));
    if (old === undefined || !alive(old)) return;
    process.kill(old, signal);
    await waitFor(`tessera-watcher (pid ${old}) to exit after ${signal}`, () => !alive(old), 15_000, 100);
  };
  const startWatcher = async (): Promise<number> => {
    const pid = need(c.launchWatcher, 'tessera-watcher')();
    await waitFor(`tessera-watcher to be ready again (log: ${log})`, async () => {
      if (!alive(pid)) throw new GiveUp(`tessera-watcher exited; see ${log}`);
      return httpOk(c.names.central, WATCHER_HEALTH_PORT, '/readyz');
    }, 30_000, 200);
    return pid;
  };
  return { stopWatcher, startWatcher, restartWatcher: async (signal = 'SIGTERM') => {
    await stopWatcher(signal);
    return startWatcher();
  } };
}

function podControl(c: LabContext, file: LabFile): Pick<Lab, 'addPod' | 'deletePod'> {
  return {
    addPod: async (p) => {
      checkPods([...file.pods.map((x) => ({ namespace: x.namespace, name: x.name, node: x.node })), p], c.nodeNames);
      const entry = await bringUpPod(c, p);
      file.pods.push(entry);
      writeLabFile(c.labFilePath, file);
      return entry;
    },
    deletePod: async (namespace, name) => {
      const entry = file.pods.find((x) => x.namespace === namespace && x.name === name);
      if (!entry) throw new Error(`lab: no pod ${namespace}/${name}`);
      await tearDownPod(c, entry);
      file.pods.splice(file.pods.indexOf(entry), 1);
      writeLabFile(c.labFilePath, file);
    },
  };
}

export function labHandle(c: LabContext, stop: () => Promise<void>): Lab {
  const file = need(c.file, 'the lab description');
  const central = need(c.central, 'OVN central');
  return {
    file, stateDir: c.stateDir, runDir: c.runDir, labFilePath: c.labFilePath, central, nodes: c.nodes, kube: need(c.kube, 'the Kubernetes API'),
    nbctl: (args) => nbctl(central, args),
    sbctl: (args) => sbctl(central, args),
    vsctl: (node, args) => {
      const n = c.nodes.find((x) => x.name === node);
      if (!n) throw new Error(`no lab node ${node}`);
      return vsctl(n, args);
    },
    exec: (netns, cmd, args, o = {}) => {
      if (!netns.startsWith(c.prefix)) throw new Error(`netns ${netns} is not one of this lab's (prefix ${c.prefix})`);
      return run(cmd, args, { ...o, netns });
    },
    ...podControl(c, file),
    check: () => labChecks(file, { servers: c.podServers }),
    figures: c.figures,
    report: (checks, elapsedMs) => formatReport(file, checks, elapsedMs, c.figures),
    pids: () => livePids(c.runDir).filter(alive),
    ...watcherControl(c, central),
    stop,
  };
}
