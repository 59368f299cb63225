// A lab pod's life as kubelet + containerd would run it: Pod object, netns, CNI ADD through cnitool, status, a demo
// workload; and the reverse. The watcher gives the pod its address and port; tessera-agent wires it.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cnitool, containerdCniArgs, type NodeCniConfig } from './cni.js';
import { stopDaemons } from './daemon.js';
import { startDemoServer } from './demo-server.js';
import { podPath, type KubeObject } from './kube.js';
import { need, type LabContext } from './lab-context.js';
import type { LabFile } from './lab-file.js';
import { delNetns } from './netns.js';
import type { OvsNode } from './ovs-node.js';
import { POD_IFNAME, cnitoolContainerId, createPodNetns, hostVethName, netnsPath, type LabPodSpec } from './pods.js';

export type LabPod = LabFile['pods'][number];

const podDir = (c: LabContext, netns: string): string => join(c.runDir, 'pods', netns);
const cniArgsOf = (p: LabPodSpec, uid: string, containerId: string): string =>
  containerdCniArgs({ sandboxId: containerId, uid, namespace: p.namespace, name: p.name });

function nodeOf(c: LabContext, name: string): OvsNode {
  return need(c.nodes.find((n) => n.name === name), `node ${name}`);
}

/** One pod, as kubelet + containerd would bring it up: Pod object, netns, CNI ADD, status, workload. */
export async function bringUpPod(c: LabContext, p: LabPodSpec): Promise<LabPod> {
  const kube = need(c.kube, 'the Kubernetes API');
  const netns = c.names.pod(p);
  const node = nodeOf(c, p.node);
  const containerId = cnitoolContainerId(netnsPath(netns));
  const entry: LabPod = { namespace: p.namespace, name: p.name, node: p.node, netns, ip: '', mac: '', hostIface: hostVethName(containerId, POD_IFNAME),
    ...(p.labels ? { labels: p.labels } : {}) };
  await createPodNetns(netns);
  mkdirSync(podDir(c, netns), { recursive: true });
  const created = await kube.create<KubeObject>(`/api/v1/namespaces/${p.namespace}/pods`, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace, labels: p.labels ?? {}, annotations: p.annotations ?? {} },
    spec: { nodeName: p.node, containers: [{ name: 'server', image: 'tessera-lab/pod-server' }] },
  });
  const uid = created.metadata.uid ?? `lab-${netns}`;
  c.uids.set(`${p.namespace}/${p.name}`, uid);
  const tWire = Date.now();
  const result = await cnitool({ verb: 'add', nodeNetns: node.netns, conf: need(c.cniConf.get(p.node), `the CNI config of ${p.node}`), binDir: c.binDir,
    netnsPath: netnsPath(netns), cniArgs: cniArgsOf(p, uid, containerId) });
  const ip = result?.ips?.[0]?.address;
  if (!ip) throw new Error(`pod ${p.namespace}/${p.name}: CNI ADD returned no IP: ${JSON.stringify(result)}`);
  entry.ip = ip.split('/')[0];
  entry.mac = result?.interfaces?.find((i) => i.sandbox)?.mac ?? '';
  c.figures.podWiringMs[`${p.namespace}/${p.name}`] = Date.now() - tWire;
  await kube.patch(`${podPath(p.namespace, p.name)}/status`, { status: {
    phase: 'Running', podIP: entry.ip, podIPs: [{ ip: entry.ip }], hostIP: node.ip,
    conditions: [{ type: 'Ready', status: 'True' }],
  } }, 'merge');
  if (c.podServers) await startDemoServer({ dir: podDir(c, netns), netns, name: `${p.namespace}/${p.name}`, timeoutMs: 15_000 });
  return entry;
}

/** The reverse, as kubelet + containerd would: CNI DEL (the agent removes the port), then the Pod object. */
export async function tearDownPod(c: LabContext, entry: LabPod): Promise<void> {
  const node = nodeOf(c, entry.node);
  const containerId = cnitoolContainerId(netnsPath(entry.netns));
  await stopDaemons(podDir(c, entry.netns));
  await cnitool({ verb: 'del', nodeNetns: node.netns, conf: c.cniConf.get(entry.node) as NodeCniConfig, binDir: c.binDir, netnsPath: netnsPath(entry.netns),
    cniArgs: cniArgsOf(entry, c.uids.get(`${entry.namespace}/${entry.name}`) ?? '', containerId) });
  await need(c.kube, 'the Kubernetes API').delete(podPath(entry.namespace, entry.name));
  await delNetns(entry.netns);
  rmSync(podDir(c, entry.netns), { recursive: true, force: true });
}
