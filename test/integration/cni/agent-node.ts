// A single-node fixture with the REAL tessera-agent: the lab harness (lab/cluster.ts) with one node, the API
// test server and the agent (no watcher: the fixture writes each pod's pod-networks annotation and logical
// switch port itself, as the watcher would). Pods are netns named <prefix>p-<name>, wired by cnitool.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLab, type Lab } from '../../../lab/cluster.js';
import { scriptPodPort } from '../../../lab/nb-script.js';
import type { KubeObject } from '../../../lab/kube.js';
import { addNetns } from '../../../lab/netns.js';
import { POD_NETWORKS_ANNOTATION, type PodNetwork } from '../../../lib/kube/annotations.js';
import { macFromIPv4 } from '../../../lib/ovn/names.js';
import { execShim } from './fixture.js';

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
    prefix: o.prefix, stateDir: o.stateDir, nodes: 1, pods: [], services: [], podServers: false,
    components: { apiserver: true, watcher: false, agent: true }, log: o.log,
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
    const base = subnet.split('/')[0].split('.').slice(0, 3).join('.');
    let nextHost = 3;
    const kube = lab.kube;
    if (!kube) throw new Error('lab started without the API test server');
    return {
      lab, nodeName: node.name, nodeNetns: node.netns, agentSocket, agentLog, subnet,
      async addPod(name) {
        const netns = `${o.prefix}p-${name}`;
        const ip = `${base}.${nextHost++}`;
        const net: PodNetwork = { ip_addresses: [`${ip}/${subnet.split('/')[1]}`], mac_address: macFromIPv4(ip), gateway_ips: [`${base}.1`], routes: [], logical_switch: node.name, mtu: 1400 };
        await addNetns(netns);
        const created = await kube.create<KubeObject>(`/api/v1/namespaces/default/pods`, {
          apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', annotations: { [POD_NETWORKS_ANNOTATION]: JSON.stringify({ default: net }) } },
          spec: { nodeName: node.name, containers: [{ name: 'c', image: 'tessera-test/none' }] },
        });
        await scriptPodPort(lab.central, { node: node.name, namespace: 'default', pod: name, ip, mac: net.mac_address });
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
