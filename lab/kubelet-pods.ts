// The lab kubelet's pods: what kubelet + containerd do for a pod of the Tessera image on a lab node. A netns, CNI ADD
// through cnitool with the node's conflist (as the lab's own pods, cni.ts), the container's command run inside the
// netns (its executable resolved in the image, i.e. dist/bin), status Running with the podIP; on deletion the reverse.
// There is no container filesystem or user: the command runs as the kubelet's user in the netns.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cnitool, containerdCniArgs } from './cni.js';
import { run } from './exec.js';
import type { KubeObject, UnixKubeClient } from './kube.js';
import type { KubeletConfig, KubeletNode } from './kubelet-config.js';
import { addNetns, delNetns } from './netns.js';
import { cnitoolContainerId, netnsPath } from './pods.js';
import { IMAGE_EXECUTABLES, IMAGE_REPOSITORY } from '../lib/image.js';

export interface PodObject extends KubeObject {
  spec?: { nodeName?: string; containers?: Array<{ name: string; image?: string; command?: string[]; args?: string[];
    readinessProbe?: { tcpSocket?: { port?: number | string } } }> };
  status?: { phase?: string; podIP?: string };
}

export interface RunningPod {
  key: string;
  namespace: string;
  name: string;
  uid: string;
  node: KubeletNode;
  netns: string;
  container: string;
  proc?: ChildProcess;
  wired: boolean;
}

/** The pods this kubelet runs: on one of its nodes, with a container of the Tessera image's repository. */
export function isOurs(p: PodObject, nodes: string[]): boolean {
  return nodes.includes(p.spec?.nodeName ?? '') && (p.spec?.containers ?? []).some((c) => imageRepository(c.image ?? '') === IMAGE_REPOSITORY);
}

export function imageRepository(image: string): string {
  const noDigest = image.split('@')[0];
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  const repo = colon > slash ? noDigest.slice(0, colon) : noDigest;
  return repo.replace(/^docker\.io\//, '');
}

/** The host path a container command's executable has in the image (its /usr/local/bin is binDir), or an error. */
export function resolveCommand(argv: string[], binDir: string): string[] {
  const exe = argv[0] ?? '';
  const name = basename(exe);
  if (!IMAGE_EXECUTABLES.includes(name) || (exe.includes('/') && exe !== `/usr/local/bin/${name}`)) {
    throw new Error(`exec: "${exe}": executable file not found in $PATH`);
  }
  return [join(binDir, name), ...argv.slice(1)];
}

const statusPath = (ns: string, name: string): string => `/api/v1/namespaces/${ns}/pods/${name}/status`;

export class PodRuntime {
  readonly pods = new Map<string, RunningPod>();

  constructor(private readonly cfg: KubeletConfig, private readonly kube: UnixKubeClient, private readonly log: (m: string) => void) {}

  private cni(verb: 'add' | 'del', r: RunningPod) {
    return cnitool({ verb, nodeNetns: r.node.netns, conf: r.node.cni, binDir: this.cfg.binDir, netnsPath: netnsPath(r.netns),
      cniArgs: containerdCniArgs({ sandboxId: cnitoolContainerId(netnsPath(r.netns)), uid: r.uid, namespace: r.namespace, name: r.name }) });
  }

  private async patchStatus(r: RunningPod, status: Record<string, unknown>): Promise<void> {
    await this.kube.patch(statusPath(r.namespace, r.name), { status }, 'merge').catch((e: Error) => this.log(`status of ${r.key}: ${e.message}`));
  }

  /** Brings a new pod up; a failure leaves it Pending with the container's waiting reason, as kubelet reports it. */
  async start(p: PodObject): Promise<void> {
    const ns = p.metadata.namespace ?? 'default';
    const name = p.metadata.name as string;
    const c = (p.spec?.containers ?? []).find((x) => imageRepository(x.image ?? '') === IMAGE_REPOSITORY) as NonNullable<NonNullable<PodObject['spec']>['containers']>[number];
    const node = this.cfg.nodes.find((n) => n.name === p.spec?.nodeName) as KubeletNode;
    const r: RunningPod = { key: `${ns}/${name}`, namespace: ns, name, uid: p.metadata.uid ?? '', node, netns: `${this.cfg.podNetnsPrefix}${ns}-${name}`, container: c.name, wired: false };
    this.pods.set(r.key, r);
    const waiting = (reason: string, message: string) => this.patchStatus(r, { phase: 'Pending', hostIP: node.ip,
      containerStatuses: [{ name: c.name, image: c.image, imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } }] });
    if (c.image !== this.cfg.image) return waiting('ErrImagePull', `the lab kubelet has only ${this.cfg.image} (built from dist/bin), not ${c.image}`);
    let argv: string[];
    try {
      argv = resolveCommand([...(c.command ?? []), ...(c.args ?? [])], this.cfg.binDir);
    } catch (err) {
      return waiting('RunContainerError', (err as Error).message);
    }
    await addNetns(r.netns);
    r.wired = true;
    const res = await this.cni('add', r);
    const ip = res?.ips?.[0]?.address.split('/')[0];
    if (!ip) throw new Error(`${r.key}: CNI ADD returned no IP`);
    if (!this.pods.has(r.key)) return; // deleted while it was being wired: stop() has run or runs next
    r.proc = this.spawnContainer(r, argv);
    await this.patchStatus(r, { phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: node.ip, startTime: new Date().toISOString(),
      containerStatuses: [{ name: c.name, image: c.image, imageID: '', ready: false, started: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } }],
      conditions: [{ type: 'Ready', status: 'False' }] });
    await this.waitReady(r, c.readinessProbe?.tcpSocket?.port);
    if (r.proc.exitCode === null) await this.patchStatus(r, { conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: c.name, image: c.image, imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } }] });
  }

  private spawnContainer(r: RunningPod, argv: string[]): ChildProcess {
    const dir = join(this.cfg.dir, 'pods');
    mkdirSync(dir, { recursive: true });
    const log = openSync(join(dir, `${r.namespace}_${r.name}.log`), 'a');
    const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOSTNAME: r.name };
    const proc = spawn('ip', ['netns', 'exec', r.netns, ...argv], { stdio: ['ignore', log, log], env });
    closeSync(log);
    proc.on('exit', (code) => {
      if (!this.pods.has(r.key) || r.proc !== proc) return;
      void this.patchStatus(r, { phase: code === 0 ? 'Succeeded' : 'Failed', conditions: [{ type: 'Ready', status: 'False' }] });
    });
    return proc;
  }

  /** Ready once the tcpSocket readiness port listens in the pod's netns (at once without a probe). */
  private async waitReady(r: RunningPod, port: number | string | undefined): Promise<void> {
    if (typeof port !== 'number') return;
    for (let i = 0; i < 100 && r.proc?.exitCode === null; i++) {
      if ((await run('ss', ['-Htln', `sport = :${port}`], { netns: r.netns })).trim() !== '') return;
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  /** The reverse: the container's process, CNI DEL (the agent removes the port), the netns. */
  async stop(key: string): Promise<void> {
    const r = this.pods.get(key);
    if (!r) return;
    this.pods.delete(key);
    if (r.proc && r.proc.exitCode === null) {
      r.proc.kill('SIGKILL');
      await new Promise((res) => r.proc?.once('exit', res));
    }
    if (!r.wired) return;
    await this.cni('del', r).catch((e: Error) => this.log(`CNI DEL ${r.key}: ${e.message}`));
    await delNetns(r.netns);
  }
}
