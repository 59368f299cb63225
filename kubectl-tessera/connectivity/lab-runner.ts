// Test pods in the lab, brought up as the lab's kubelet does (lab/README.md): Pod object through the API, the
// watcher's annotation, a netns, cnitool ADD through the node's conflist (tessera-cni -> tessera-agent), status
// Running; a server pod runs `nc -lk PORT` in its netns. Cleanup: server, cnitool DEL, Pod object, netns.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import type { V1Pod } from '@kubernetes/client-node';
import { POD_NETWORKS_ANNOTATION, parsePodNetworks } from '../../lib/kube/annotations.js';
import { apiErrorCode, type KubeClients } from '../../lib/kube/client.js';
import { MERGE_PATCH } from '../../lib/kube/patch.js';
import type { LabFile } from '../../lab/lab-file.js';
import { execCmd, execOk } from '../exec.js';
import { binDir } from '../target.js';
import type { PodRunner, TestPod, TestPodSpec } from './runner.js';

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

export function labRunner(kube: KubeClients, lab: LabFile, namespace: string): PodRunner {
  const created: Created[] = [];
  const bins = binDir();
  const cnitool = resolve(bins, '..', '..', '.tools', 'bin', 'cnitool');
  const nodeOf = (name: string): LabFile['nodes'][number] => {
    const n = lab.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no lab node ${name}`);
    return n;
  };
  const cni = (verb: 'add' | 'del', c: Created): Promise<string> => {
    const node = nodeOf(c.pod.node);
    const path = `/var/run/netns/${c.netns}`;
    return execOk('ip', ['netns', 'exec', node.netns, existsSync(cnitool) ? cnitool : 'cnitool', verb, `${lab.prefix}net`, path], {
      timeoutMs: 60_000,
      env: { NETCONFPATH: join(node.ovsRunDir, 'net.d'), CNI_PATH: `${bins}:/usr/lib/cni`,
        CNI_ARGS: `K8S_POD_INFRA_CONTAINER_ID=${containerId(path)};K8S_POD_UID=${c.uid};IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${c.pod.name}` },
    });
  };

  async function annotated(name: string): Promise<string> {
    for (let i = 0; i < 150; i++) {
      const p: V1Pod = await kube.core.readNamespacedPod({ namespace, name });
      const ip = parsePodNetworks(p.metadata?.annotations?.[POD_NETWORKS_ANNOTATION])?.default?.ip_addresses?.[0]?.split('/')[0];
      if (ip) return ip;
      await sleep(200);
    }
    throw new Error(`pod ${namespace}/${name}: the watcher did not annotate it within 30 s`);
  }

  return {
    namespace,
    nodes: lab.nodes.map((n) => ({ name: n.name, ip: n.ip })),
    ...(lab.gateway ? { external: { ip: lab.gateway.extIp, port: lab.gateway.extPort,
      probe: (ip: string, port: number) => execCmd('ip', ['netns', 'exec', (lab.gateway as NonNullable<LabFile['gateway']>).extNetns, 'nc', '-z', '-w', '3', ip, String(port)], { timeoutMs: 10_000 }) } } : {}),
    serviceAddress: async () => {
      const base = (lab.services[0]?.clusterIP ?? '10.96.0.10').split('.').slice(0, 2).join('.');
      const used = new Set(lab.services.map((s) => s.clusterIP));
      const clusterIP = [...Array(50).keys()].map((i) => `${base}.255.${200 + i}`).find((ip) => !used.has(ip)) as string;
      return { clusterIP, nodePort: 30_000 + 99 };
    },
    publishEndpoints: async (service, port, backends) => {
      await kube.discovery.createNamespacedEndpointSlice({ namespace, body: {
        metadata: { name: `${service}-ct`, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'kubectl-tessera' } },
        addressType: 'IPv4', ports: [{ name: 'tcp', protocol: 'TCP', port }],
        endpoints: backends.map((b) => ({ addresses: [b.ip], nodeName: b.node, conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace, name: b.name } })),
      } });
    },
    create: async (spec: TestPodSpec) => {
      const node = nodeOf(spec.node);
      const pod = await kube.core.createNamespacedPod({ namespace, body: { metadata: { name: spec.name, labels: spec.labels },
        spec: { nodeName: spec.node, containers: [{ name: 'probe', image: 'tessera-lab/probe' }] } } });
      const c: Created = { pod: { name: spec.name, node: spec.node, ip: '' }, netns: `${lab.prefix}pod-${namespace}-${spec.name}`, uid: pod.metadata?.uid ?? '', wired: false };
      created.push(c);
      c.pod.ip = await annotated(spec.name);
      await execOk('ip', ['netns', 'add', c.netns]);
      await execOk('ip', ['-n', c.netns, 'link', 'set', 'lo', 'up']);
      c.wired = true;
      await cni('add', c);
      await kube.core.patchNamespacedPodStatus({ namespace, name: spec.name, body: { status: { phase: 'Running', podIP: c.pod.ip, podIPs: [{ ip: c.pod.ip }], hostIP: node.ip } } }, MERGE_PATCH);
      if (spec.serve) {
        const child = execa('ip', ['netns', 'exec', c.netns, 'nc', '-lk', String(spec.serve)], { detached: true, stdio: 'ignore', reject: false });
        child.catch(() => undefined);
        child.unref();
        c.server = child.pid;
        for (let i = 0; i < 50 && (await execCmd('ip', ['netns', 'exec', c.netns, 'ss', '-Htln', `sport = :${spec.serve}`])).stdout.trim() === ''; i++) await sleep(100);
      }
      return c.pod;
    },
    probe: (from, ip, port, timeoutS = 3) => {
      const c = created.find((x) => x.pod === from);
      if (!c) throw new Error(`${from.name} is not a test pod`);
      return execCmd('ip', ['netns', 'exec', c.netns, 'nc', '-z', '-w', String(timeoutS), ip, String(port)], { timeoutMs: (timeoutS + 5) * 1000 });
    },
    cleanup: async () => {
      const errors: string[] = [];
      const step = async (what: string, f: () => Promise<unknown>): Promise<void> => {
        try {
          await f();
        } catch (err) {
          if (apiErrorCode(err) !== 404) errors.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
        }
      };
      for (const c of created.splice(0).reverse()) {
        if (c.server) await step(`stop server of ${c.pod.name}`, async () => process.kill(c.server as number, 'SIGTERM'));
        if (c.wired) {
          await step(`CNI DEL ${c.pod.name}`, () => cni('del', c));
          await step(`netns ${c.netns}`, () => execOk('ip', ['netns', 'del', c.netns]));
        }
        await step(`delete pod ${c.pod.name}`, () => kube.core.deleteNamespacedPod({ namespace, name: c.pod.name }));
      }
      return errors;
    },
  };
}
