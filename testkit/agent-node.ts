// A single-node fixture with the REAL tessera-agent: the lab (lab/cluster.ts) with one node and no pods. addPod()
// creates the Pod object and its netns and returns once tessera-watcher has given it an address (the pod-networks
// annotation), so the caller's CNI ADD through cnitool times the agent alone. Pods are netns named <prefix>p-<name>.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLab, type Lab } from '../lab/cluster.js';
import { podPath, type KubeObject } from '../lab/kube.js';
import { addNetns } from '../lab/netns.js';
import { waitFor } from '../lab/wait.js';
import { POD_NETWORKS_ANNOTATION, parsePodNetworks } from '../lib/kube/annotations.js';
import { execShim } from './cni.js';

export interface AgentPod {
  name: string;
  netns: string;
  netnsPath: string;
  ip: string;
  uid: string;
}

export interface AgentNode {
  lab: Lab;
  nodeName: string;
  nodeNetns: string;
  agentSocket: string;
  /** The agent's winston file log (one "ADD done" line per ADD with its phase timings). */
  agentLog: string;
  subnet: string;
  addPod(name: string): Promise<AgentPod>;
  stop(): Promise<void>;
}

export async function startAgentNode(o: { prefix: string; stateDir: string; log?: (m: string) => void }): Promise<AgentNode> {
  const lab = await startLab({
    prefix: o.prefix, stateDir: o.stateDir, nodes: 1, pods: [], services: [], podServers: false, log: o.log,
  });
  try {
    const node = lab.nodes[0];
    const nodeInfo = lab.file.nodes[0];
    const agentSocket = join(node.dir, 'cni.sock');
    const agentLog = join(node.dir, 'tessera-agent.file.log');
    // Ready = the shim's own STATUS succeeds (agent synced, OVS connected, node init done).
    const statusConf = JSON.stringify({ cniVersion: '1.1.0', name: 'status', type: 'tessera-cni', agentSocket });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await execShim({ CNI_COMMAND: 'STATUS', CNI_PATH: '/opt/cni/bin' }, statusConf);
      if (r.code === 0) break;
      if (Date.now() > deadline) throw new Error(`tessera-agent not ready after 60 s: ${r.stdout.trim()} (log ${join(node.dir, 'tessera-agent.log')})`);
      await new Promise((res) => setTimeout(res, 250));
    }
    const subnet = nodeInfo.subnet;
    const kube = lab.kube;
    return {
      lab, nodeName: node.name, nodeNetns: node.netns, agentSocket, agentLog, subnet,
      async addPod(name) {
        const netns = `${o.prefix}p-${name}`;
        await addNetns(netns);
        const created = await kube.create<KubeObject>(`/api/v1/namespaces/default/pods`, {
          apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
          spec: { nodeName: node.name, containers: [{ name: 'c', image: 'tessera-test/none' }] },
        });
        let ip = '';
        await waitFor(`tessera-watcher to give pod default/${name} an address`, async () => {
          const net = parsePodNetworks((await kube.get(podPath('default', name))).metadata.annotations?.[POD_NETWORKS_ANNOTATION])?.default;
          ip = net?.ip_addresses[0]?.split('/')[0] ?? '';
          return ip !== '';
        }, 30_000, 20);
        return { name, netns, netnsPath: `/var/run/netns/${netns}`, ip, uid: created.metadata.uid ?? '' };
      },
      stop: () => lab.stop(),
    };
  } catch (err) {
    await lab.stop();
    throw err;
  }
}

/** Per-ADD phase timings from the agent's log, keyed by "<ns>/<pod>". */
export function agentAddTimings(agentLog: string): Map<string, { annotation: number; netns: number; ovs: number; ovnInstalled: number }> {
  const out = new Map<string, { annotation: number; netns: number; ovs: number; ovnInstalled: number }>();
  if (!existsSync(agentLog)) return out;
  for (const line of readFileSync(agentLog, 'utf8').split('\n')) {
    const i = line.indexOf('ADD done {');
    if (i < 0) continue;
    try {
      const meta = JSON.parse(line.slice(i + 'ADD done '.length)) as { pod: string; ms: { annotation: number; netns: number; ovs: number; ovnInstalled: number } };
      out.set(meta.pod, meta.ms);
    } catch {
      // a line that is not ours
    }
  }
  return out;
}
