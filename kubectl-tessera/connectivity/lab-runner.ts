// Test pods in the lab, brought up as the lab's kubelet does (lab/README.md): Pod object through the API, the
// watcher's annotation, a netns, cnitool ADD through the node's conflist (tessera-cni -> tessera-agent), status
// Running; a server pod runs `nc -lk PORT` in its netns. Cleanup: server, cnitool DEL, netns, Pod object.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import type { V1Pod } from '@kubernetes/client-node';
import { POD_NETWORKS_ANNOTATION, parsePodNetworks } from '../../lib/kube/annotations.js';
import { apiErrorCode, type KubeClients } from '../../lib/kube/client.js';
import { MERGE_PATCH } from '../../lib/kube/patch.js';
import type { LabFile } from '../../lab/lab-file.js';
import { execCmd, execOk, type ExecResult } from '../exec.js';
import { binDir } from '../target.js';
import type { ExternalHost, PodRunner, TestPod, TestPodSpec } from './runner.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Created {
  pod: TestPod;
  netns: string;
  uid: string;
  wired: boolean;
  server?: number;
}

/** cnitool's container id for a netns path, as lab/pods.ts computes it. */
const containerId = (netnsPath: string): string => 'cnitool-' + createHash('sha512').update(netnsPath).digest('hex').slice(0, 20);

export class LabPodRunner implements PodRunner {
  readonly nodes: Array<{ name: string; ip: string }>;
  readonly external?: ExternalHost;
  private readonly created: Created[] = [];
  private readonly bins = binDir();
  private readonly cnitool: string;

  constructor(private readonly kube: KubeClients, private readonly lab: LabFile, readonly namespace: string) {
    this.nodes = lab.nodes.map((n) => ({ name: n.name, ip: n.ip }));
    const cnitool = resolve(this.bins, '..', '..', '.tools', 'bin', 'cnitool');
    this.cnitool = existsSync(cnitool) ? cnitool : 'cnitool';
    const gw = lab.gateway;
    if (gw) this.external = { ip: gw.extIp, port: gw.extPort, probe: (ip, port) => execCmd('ip', ['netns', 'exec', gw.extNetns, 'nc', '-z', '-w', '3', ip, String(port)], { timeoutMs: 10_000 }) };
  }

  private nodeOf(name: string): LabFile['nodes'][number] {
    const n = this.lab.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no lab node ${name}`);
    return n;
  }

  private cni(verb: 'add' | 'del', c: Created): Promise<string> {
    const node = this.nodeOf(c.pod.node);
    const path = `/var/run/netns/${c.netns}`;
    return execOk('ip', ['netns', 'exec', node.netns, this.cnitool, verb, `${this.lab.prefix}net`, path], {
      timeoutMs: 60_000,
      env: { NETCONFPATH: join(node.ovsRunDir, 'net.d'), CNI_PATH: `${this.bins}:/usr/lib/cni`,
        CNI_ARGS: `K8S_POD_INFRA_CONTAINER_ID=${containerId(path)};K8S_POD_UID=${c.uid};IgnoreUnknown=1;K8S_POD_NAMESPACE=${this.namespace};K8S_POD_NAME=${c.pod.name}` },
    });
  }

  private async annotatedIp(name: string): Promise<string> {
    for (let i = 0; i < 150; i++) {
      const p: V1Pod = await this.kube.core.readNamespacedPod({ namespace: this.namespace, name });
      const ip = parsePodNetworks(p.metadata?.annotations?.[POD_NETWORKS_ANNOTATION])?.default?.ip_addresses?.[0]?.split('/')[0];
      if (ip) return ip;
      await sleep(200);
    }
    throw new Error(`pod ${this.namespace}/${name}: the watcher did not annotate it within 30 s`);
  }

  async serviceAddress(): Promise<{ clusterIP?: string; nodePort?: number }> {
    const base = (this.lab.services[0]?.clusterIP ?? '10.96.0.10').split('.').slice(0, 2).join('.');
    const used = new Set(this.lab.services.map((s) => s.clusterIP));
    const clusterIP = [...Array(50).keys()].map((i) => `${base}.255.${200 + i}`).find((ip) => !used.has(ip));
    return { clusterIP, nodePort: 30_099 };
  }

  async publishEndpoints(service: string, port: number, backends: TestPod[]): Promise<void> {
    await this.kube.discovery.createNamespacedEndpointSlice({ namespace: this.namespace, body: {
      metadata: { name: `${service}-ct`, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'kubectl-tessera' } },
      addressType: 'IPv4', ports: [{ name: 'tcp', protocol: 'TCP', port }],
      endpoints: backends.map((b) => ({ addresses: [b.ip], nodeName: b.node, conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: this.namespace, name: b.name } })),
    } });
  }

  async create(spec: TestPodSpec): Promise<TestPod> {
    const pod = await this.kube.core.createNamespacedPod({ namespace: this.namespace, body: { metadata: { name: spec.name, labels: spec.labels },
      spec: { nodeName: spec.node, containers: [{ name: 'probe', image: 'tessera-lab/probe' }] } } });
    const c: Created = { pod: { name: spec.name, node: spec.node, ip: '' }, netns: `${this.lab.prefix}pod-${this.namespace}-${spec.name}`, uid: pod.metadata?.uid ?? '', wired: false };
    this.created.push(c);
    c.pod.ip = await this.annotatedIp(spec.name);
    await execOk('ip', ['netns', 'add', c.netns]);
    c.wired = true;
    await execOk('ip', ['-n', c.netns, 'link', 'set', 'lo', 'up']);
    await this.cni('add', c);
    await this.kube.core.patchNamespacedPodStatus({ namespace: this.namespace, name: spec.name,
      body: { status: { phase: 'Running', podIP: c.pod.ip, podIPs: [{ ip: c.pod.ip }], hostIP: this.nodeOf(spec.node).ip } } }, MERGE_PATCH);
    if (spec.serve) await this.serve(c, spec.serve);
    return c.pod;
  }

  private async serve(c: Created, port: number): Promise<void> {
    const child = execa('ip', ['netns', 'exec', c.netns, 'nc', '-lk', String(port)], { detached: true, stdio: 'ignore', reject: false });
    child.catch(() => undefined);
    child.unref();
    c.server = child.pid;
    for (let i = 0; i < 50 && (await execCmd('ip', ['netns', 'exec', c.netns, 'ss', '-Htln', `sport = :${port}`])).stdout.trim() === ''; i++) await sleep(100);
  }

  probe(from: TestPod, ip: string, port: number, timeoutS = 3): Promise<ExecResult> {
    const c = this.created.find((x) => x.pod === from);
    if (!c) throw new Error(`${from.name} is not a test pod`);
    return execCmd('ip', ['netns', 'exec', c.netns, 'nc', '-z', '-w', String(timeoutS), ip, String(port)], { timeoutMs: (timeoutS + 5) * 1000 });
  }

  async cleanup(): Promise<string[]> {
    const errors: string[] = [];
    const step = async (what: string, f: () => Promise<unknown>): Promise<void> => {
      try {
        await f();
      } catch (err) {
        if (apiErrorCode(err) !== 404) errors.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
      }
    };
    for (const c of this.created.splice(0).reverse()) {
      if (c.server) await step(`stop server of ${c.pod.name}`, async () => process.kill(c.server as number, 'SIGTERM'));
      if (c.wired) {
        await step(`CNI DEL ${c.pod.name}`, () => this.cni('del', c));
        await step(`netns ${c.netns}`, () => execOk('ip', ['netns', 'del', c.netns]));
      }
      await step(`delete pod ${c.pod.name}`, () => this.kube.core.deleteNamespacedPod({ namespace: this.namespace, name: c.pod.name }));
    }
    return errors;
  }
}
