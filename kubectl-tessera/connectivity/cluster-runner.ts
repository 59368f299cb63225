// Test pods on a real cluster: ordinary Pods that run `tessera probe` from an image (default: Tessera's own), pinned
// to nodes with spec.nodeName, Running with a podIP as the API reports it; probes are `tessera probe connect` through
// pods/exec. The API server allocates the Service's ClusterIP and NodePort and the endpointslice controller writes its
// slices, so this runner provides neither. A host outside the cluster (--external-host IP:PORT) is optional: NodePort
// is probed from where kubectl-tessera runs, egress from a test pod to that host.
import { connect } from 'node:net';
import type { V1Pod } from '@kubernetes/client-node';
import { imageRef } from '../../lib/image.js';
import type { KubeClients } from '../../lib/kube/client.js';
import { apiErrorCode } from '../../lib/kube/client.js';
import { VERSION } from '../../lib/version.js';
import type { ExecResult } from '../exec.js';
import type { PodExec } from './pod-exec.js';
import type { ExternalHost, PodRunner, TestPod, TestPodSpec } from './runner.js';

export const DEFAULT_IMAGE = imageRef(VERSION);
export const CONTAINER = 'probe';
const RUNNING_TIMEOUT_MS = 120_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type NodeInfo = { name: string; ip: string };

/** Ready, schedulable nodes with an InternalIP, by name: connectivity uses the first two. */
export function pickNodes(nodes: Array<{ metadata?: { name?: string }; spec?: { unschedulable?: boolean; taints?: Array<{ effect?: string }> };
  status?: { addresses?: Array<{ type: string; address: string }>; conditions?: Array<{ type: string; status: string }> } }>): NodeInfo[] {
  return nodes.filter((n) => !n.spec?.unschedulable && !n.spec?.taints?.some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
    && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((n) => ({ name: n.metadata?.name ?? '', ip: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '' }))
    .filter((n) => n.name && n.ip)
    .sort((a, b) => a.name.localeCompare(b.name))
    .slice(0, 2);
}

/** The Pod a test pod is: pinned to its node, the probe as its only container, gone at once when deleted. */
export function testPodManifest(spec: TestPodSpec, image: string): V1Pod {
  const command = spec.serve ? ['tessera', 'probe', 'serve', '--port', String(spec.serve)] : ['tessera', 'probe', 'idle'];
  return {
    metadata: { name: spec.name, labels: { ...spec.labels, 'app.kubernetes.io/managed-by': 'kubectl-tessera' } },
    spec: {
      nodeName: spec.node, restartPolicy: 'Never', terminationGracePeriodSeconds: 0, automountServiceAccountToken: false,
      tolerations: [{ operator: 'Exists' }],
      containers: [{ name: CONTAINER, image, imagePullPolicy: 'IfNotPresent', command,
        ...(spec.serve ? { ports: [{ containerPort: spec.serve, protocol: 'TCP' }], readinessProbe: { tcpSocket: { port: spec.serve as never }, periodSeconds: 1 } } : {}),
        securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 65534, capabilities: { drop: ['ALL'] } } }],
    },
  };
}

/** Why a pod is not (yet) Running, from its status: phase, then the container's waiting or terminated reason. */
export function podProblem(p: V1Pod): string {
  const cs = p.status?.containerStatuses?.[0]?.state;
  const why = cs?.waiting ? `${cs.waiting.reason ?? 'waiting'}${cs.waiting.message ? `: ${cs.waiting.message}` : ''}`
    : cs?.terminated ? `terminated ${cs.terminated.reason ?? ''} (exit ${cs.terminated.exitCode})${cs.terminated.message ? `: ${cs.terminated.message}` : ''}` : '';
  return `phase ${p.status?.phase ?? 'unknown'}${why ? `, ${why}` : ''}`;
}

/** A TCP connection from this host (kubectl-tessera's), as an ExecResult. */
export function tcpConnect(ip: string, port: number, timeoutS = 3): Promise<ExecResult> {
  return new Promise((resolve) => {
    const s = connect({ host: ip, port, timeout: timeoutS * 1000 });
    s.once('connect', () => { s.destroy(); resolve({ code: 0, stdout: `connected to ${ip}:${port}`, stderr: '' }); });
    s.once('timeout', () => { s.destroy(); resolve({ code: 1, stdout: '', stderr: `timeout: no TCP connection to ${ip}:${port} within ${timeoutS} s` }); });
    s.once('error', (e: NodeJS.ErrnoException) => resolve({ code: 1, stdout: '', stderr: `${e.code ?? 'error'}: ${e.message}` }));
  });
}

export interface ClusterRunnerOptions {
  image?: string;
  /** A host outside the cluster listening on TCP: egress goes there from a pod; NodePort is probed from here. */
  externalHost?: { ip: string; port: number };
  /** Or one that probes NodePort itself (the lab's external host, in its own netns). */
  external?: ExternalHost;
}

export class ClusterPodRunner implements PodRunner {
  readonly external?: ExternalHost;
  readonly image: string;
  private readonly created: TestPod[] = [];

  private constructor(private readonly kube: KubeClients, private readonly exec: PodExec, readonly namespace: string, readonly nodes: NodeInfo[], o: ClusterRunnerOptions) {
    this.image = o.image ?? DEFAULT_IMAGE;
    this.external = o.external ?? (o.externalHost ? { ...o.externalHost, probe: (ip, port) => tcpConnect(ip, port) } : undefined);
  }

  static async create(kube: KubeClients, exec: PodExec, namespace: string, o: ClusterRunnerOptions = {}): Promise<ClusterPodRunner> {
    const nodes = pickNodes((await kube.core.listNode()).items);
    if (!nodes.length) throw new Error('no Ready, schedulable node with an InternalIP to run test pods on');
    return new ClusterPodRunner(kube, exec, namespace, nodes, o);
  }

  async create(spec: TestPodSpec): Promise<TestPod> {
    await this.kube.core.createNamespacedPod({ namespace: this.namespace, body: testPodManifest(spec, this.image) });
    const pod: TestPod = { name: spec.name, node: spec.node, ip: '' };
    this.created.push(pod);
    pod.ip = await this.runningIp(spec.name);
    if (spec.serve) await this.waitListening(pod, spec.serve);
    return pod;
  }

  private async runningIp(name: string): Promise<string> {
    const t0 = Date.now();
    let last: V1Pod | undefined;
    while (Date.now() - t0 < RUNNING_TIMEOUT_MS) {
      last = await this.kube.core.readNamespacedPod({ namespace: this.namespace, name });
      if (last.status?.phase === 'Running' && last.status.podIP) return last.status.podIP;
      if (last.status?.phase === 'Failed' || last.status?.phase === 'Succeeded') break;
      await sleep(250);
    }
    throw new Error(`test pod ${this.namespace}/${name} (image ${this.image}) is not Running with an IP: ${last ? podProblem(last) : 'not found'}`);
  }

  /** A server pod is Running once its process started; it serves once its own probe connects to itself. */
  private async waitListening(pod: TestPod, port: number): Promise<void> {
    let r: ExecResult = { code: 1, stdout: '', stderr: '' };
    for (let i = 0; i < 20; i++) {
      r = await this.exec(this.namespace, pod.name, CONTAINER, ['tessera', 'probe', 'connect', '127.0.0.1', String(port), '--timeout', '1'], 15_000);
      if (r.code === 0) return;
      await sleep(250);
    }
    throw new Error(`test pod ${this.namespace}/${pod.name} does not listen on :${port}: ${r.stderr.trim()}`);
  }

  probe(from: TestPod, ip: string, port: number, timeoutS = 3): Promise<ExecResult> {
    return this.exec(this.namespace, from.name, CONTAINER, ['tessera', 'probe', 'connect', ip, String(port), '--timeout', String(timeoutS)], (timeoutS + 15) * 1000);
  }

  async cleanup(): Promise<string[]> {
    const errors: string[] = [];
    for (const p of this.created.splice(0)) {
      try {
        await this.kube.core.deleteNamespacedPod({ namespace: this.namespace, name: p.name, gracePeriodSeconds: 0 });
      } catch (err) {
        if (apiErrorCode(err) !== 404) errors.push(`delete pod ${p.name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    return errors;
  }
}
