// `make lab LAB_ARGS=--nested`: Kubernetes nodes inside VMs (issue 16, OVN-only nested mode). A hypervisor
// (`<p>hyper1`: OVS + ovn-controller like the other lab nodes, no Kubernetes node) hosts two "VMs": netns whose
// `eth0` is a veth into the hypervisor's br-int with iface-id = the VM's logical switch port. The VM ports live on a
// switch of their own (`vms`), written with ovn-nbctl as Nova/Neutron would (another writer's rows), attached to the
// cluster router so that the VMs and the pods are one routed network (each VM routes the pod CIDR there). Each VM is a
// Node annotated with tessera.io/nested-parent-port, runs a nested tessera-agent (no OVS) reaching the API over
// its underlay NIC `eth1`, and pods wired through cnitool as on the other nodes: VLAN interfaces of `eth0`.
// Nested pods go to lab.json's nested{}, not pods[], so the default network's checks do not expect them.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeNodeConflist } from './cni.js';
import { alive, spawnDaemon } from './daemon.js';
import { run } from './exec.js';
import { nodePath, serviceAccountTokenFile } from './kube.js';
import { CIDRS, need, POD_MTU, type LabContext, type LabStep } from './lab-context.js';
import type { LabFile } from './lab-file.js';
import { addAddr, addNetns, addVeth, txOff } from './netns.js';
import { nbctl } from './ovn-central.js';
import { startOvsNode, vsctl } from './ovs-node.js';
import { bringUpPod, type LabPod } from './pod-lifecycle.js';
import { networkPoliciesPath, networkPolicyObject, type LabPolicySpec } from './policy.js';
import { AGENT_HEALTH_PORT, httpOk } from './tessera.js';
import { plugUnderlay } from './underlay.js';
import { GiveUp, waitFor } from './wait.js';
import { NODE_NESTED_PARENT_ANNOTATION, NODE_SUBNET_ANNOTATION } from '../lib/kube/annotations.js';
import { CLUSTER_ROUTER } from '../lib/ovn/names.js';
import { nestedChecks } from './nested-checks.js';

export const NESTED_LAB = {
  hypervisor: 'hyper1',
  vmSwitch: 'vms',
  vms: [
    { name: 'vm1', port: 'vm1-nic', mac: '0a:00:0a:63:00:0b', ip: '10.99.0.11/24' },
    { name: 'vm2', port: 'vm2-nic', mac: '0a:00:0a:63:00:0c', ip: '10.99.0.12/24' },
  ],
  // The VMs' network on the cluster router, as an OpenStack operator puts a tenant network and the pods' network on
  // one Neutron router: VMs and pods are one routed network (issue 16), neither side NATs.
  vmRouter: { lrp: 'lab-vms-router', lsp: 'lab-vms-to-router', mac: '0a:00:0a:63:00:01', cidr: '10.99.0.1/24' },
  service: { name: 'nested-web', clusterIP: '10.96.0.20', port: 80 },
  policy: { namespace: 'default', name: 'nested-web-allow-clients', podSelector: { app: 'nested-web' }, from: { role: 'nested-client' }, port: 8080 } satisfies LabPolicySpec,
} as const;

export interface NestedLabInfo {
  hypervisor: { name: string; netns: string; ip: string; ovsRunDir: string };
  vmSwitch: string;
  /** The cluster router's port on the VMs' switch: the VMs' gateway to the pods. */
  vmRouter: { port: string; ip: string };
  vms: Array<{ name: string; netns: string; parentPort: string; nic: string; ip: string; underlayIp: string; subnet: string; agentRunDir: string; pods: LabPod[] }>;
  service: LabFile['services'][number];
  policy: LabPolicySpec;
}

/** The hypervisor: an OVN chassis on the underlay; its br-int carries the VMs' NICs. */
async function startHypervisor(c: LabContext): Promise<NestedLabInfo['hypervisor'] & { dbSocket: string; dir: string }> {
  const central = need(c.central, 'OVN central');
  const name = NESTED_LAB.hypervisor;
  const netns = c.names.node(name);
  await addNetns(netns);
  await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  await plugUnderlay(c.underlay.netns, netns, name);
  const ip = c.net.nodeIp(8);
  const n = await startOvsNode({ name, netns, dir: join(c.runDir, name), cidr: `${ip}/${c.plen}`, sbRemote: central.sbRemote, tls: c.pki?.roles.node });
  await waitFor(`br-int on ${name}`, async () => (await vsctl(n, ['list-br'])).split('\n').includes('br-int'), 30_000);
  return { name, netns, ip, ovsRunDir: n.dir, dbSocket: n.dbSocket, dir: n.dir };
}

/**
 * The VMs' switch on the cluster router (ovn-nbctl: the operator's rows; Tessera leaves router ports it does not own
 * alone), so pods reach the VMs' own addresses and the VMs reach the pods through it.
 */
async function attachVmSwitch(c: LabContext): Promise<void> {
  const central = need(c.central, 'OVN central');
  const r = NESTED_LAB.vmRouter;
  await waitFor(`${CLUSTER_ROUTER} in NB`, async () => (await nbctl(central, ['--bare', '--columns=name', 'list', 'Logical_Router'])).split('\n').includes(CLUSTER_ROUTER), 30_000);
  await nbctl(central, ['--may-exist', 'lrp-add', CLUSTER_ROUTER, r.lrp, r.mac, r.cidr]);
  await nbctl(central, ['--may-exist', 'lsp-add', NESTED_LAB.vmSwitch, r.lsp, '--', 'lsp-set-type', r.lsp, 'router', '--', 'lsp-set-addresses', r.lsp, 'router',
    '--', 'lsp-set-options', r.lsp, `router-port=${r.lrp}`]);
}

/** One VM: its switch port (another writer's row), its netns with eth0 on br-int and eth1 on the underlay. */
async function startVm(c: LabContext, hv: { netns: string; dbSocket: string }, vm: (typeof NESTED_LAB.vms)[number], i: number): Promise<{ netns: string; underlayIp: string }> {
  const central = need(c.central, 'OVN central');
  await nbctl(central, ['--may-exist', 'lsp-add', NESTED_LAB.vmSwitch, vm.port, '--', 'lsp-set-addresses', vm.port, `${vm.mac} ${vm.ip.split('/')[0]}`]);
  const netns = c.names.node(vm.name);
  await addNetns(netns);
  await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  // The VM's NIC: the overlay's MTU, as a cloud gives its VMs on Geneve; the pods' VLANs ride inside it.
  await addVeth({ netns: hv.netns, name: vm.port }, { netns, name: 'eth0' }, POD_MTU);
  await txOff(hv.netns, vm.port);
  await txOff(netns, 'eth0');
  await run('ip', ['-n', netns, 'link', 'set', 'eth0', 'address', vm.mac]);
  await addAddr(netns, 'eth0', vm.ip);
  // The pods' network is behind the cluster router's port on the VMs' switch (the VM's own traffic stays untagged).
  await run('ip', ['-n', netns, 'route', 'add', CIDRS.cluster, 'via', NESTED_LAB.vmRouter.cidr.split('/')[0], 'dev', 'eth0']);
  await vsctl({ dbSocket: hv.dbSocket }, ['add-port', 'br-int', vm.port, '--', 'set', 'Interface', vm.port, `external_ids:iface-id=${vm.port}`]);
  await plugUnderlay(c.underlay.netns, netns, vm.name);
  const underlayIp = c.net.nodeIp(10 + i);
  await addAddr(netns, 'eth1', `${underlayIp}/${c.plen}`);
  await run('ip', ['-n', netns, 'link', 'set', 'eth1', 'up']);
  return { netns, underlayIp };
}

/** The VM's Node (nested, naming its parent port) and its nested agent; resolves with the node's subnet once ready. */
async function startNestedNode(c: LabContext, vm: (typeof NESTED_LAB.vms)[number], netns: string, underlayIp: string): Promise<{ subnet: string; dir: string }> {
  const kube = need(c.kube, 'the Kubernetes API');
  const a = need(c.api, 'the Kubernetes API');
  await kube.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: vm.name, labels: { 'kubernetes.io/hostname': vm.name, 'kubernetes.io/os': 'linux' },
    annotations: { [NODE_NESTED_PARENT_ANNOTATION]: vm.port } } });
  await kube.patch(`${nodePath(vm.name)}/status`, { status: { addresses: [{ type: 'InternalIP', address: underlayIp }, { type: 'Hostname', address: vm.name }],
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'lab VM node (nested)' }] } }, 'merge');
  const subnetOf = async (): Promise<string | undefined> => (await kube.get<{ metadata: { annotations?: Record<string, string> } }>(nodePath(vm.name))).metadata.annotations?.[NODE_SUBNET_ANNOTATION];
  await waitFor(`node subnet of ${vm.name}`, async () => (await subnetOf()) !== undefined, 30_000);
  const subnet = (await subnetOf())!;
  const dir = join(c.runDir, vm.name);
  mkdirSync(dir, { recursive: true });
  const agentSocket = join(dir, 'cni.sock');
  const pid = spawnDaemon({ dir, name: 'tessera-agent', netns, cmd: join(c.binDir, 'tessera-agent'), args: [
    '--node-name', vm.name, '--kube-api', a.url, '--kube-token-file', serviceAccountTokenFile(a, 'tessera-agent'), '--cni-socket', agentSocket,
    '--health-listen', `0.0.0.0:${AGENT_HEALTH_PORT}`, '--log-file', join(dir, 'tessera-agent.file.log'), '--nested-parent-iface', 'eth0',
  ] });
  await waitFor(`nested tessera-agent on ${vm.name} (log: ${join(dir, 'tessera-agent.log')})`, async () => {
    if (!alive(pid)) throw new GiveUp(`nested tessera-agent on ${vm.name} exited; see ${join(dir, 'tessera-agent.log')}`);
    return httpOk(netns, AGENT_HEALTH_PORT, '/readyz');
  }, 30_000, 200);
  c.cniConf.set(vm.name, writeNodeConflist({ dir, network: c.names.cniNetwork, agentSocket, logFile: join(dir, 'tessera-cni.log'), mtu: POD_MTU }));
  // bringUpPod finds a pod's node here: the VM's netns (where cnitool runs) and its IP; lab.addPod accepts the VM as a
  // pod's node (the steps that iterate nodeNames have run by now).
  c.nodes.push({ name: vm.name, netns, dir, dbSocket: '', ip: underlayIp });
  c.nodeNames.push(vm.name);
  return { subnet, dir };
}

/** Service and NetworkPolicy over the nested web pods. */
async function nestedWorkloads(c: LabContext, pods: LabPod[]): Promise<LabFile['services'][number]> {
  const kube = need(c.kube, 'the Kubernetes API');
  const s = NESTED_LAB.service;
  const backends = pods.filter((p) => p.labels?.app === 'nested-web');
  const ports = [{ name: 'tcp', protocol: 'TCP' as const, port: s.port, targetPort: NESTED_LAB.policy.port }];
  await kube.create('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: s.name, namespace: 'default' },
    spec: { type: 'ClusterIP', clusterIP: s.clusterIP, clusterIPs: [s.clusterIP], selector: { app: 'nested-web' }, ports } });
  await kube.create('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${s.name}-lab`, namespace: 'default', labels: { 'kubernetes.io/service-name': s.name, 'endpointslice.kubernetes.io/managed-by': 'tessera-lab' } },
    addressType: 'IPv4', ports: [{ name: 'tcp', protocol: 'TCP', port: NESTED_LAB.policy.port }],
    endpoints: backends.map((b) => ({ addresses: [b.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: b.node, targetRef: { kind: 'Pod', namespace: b.namespace, name: b.name } })) });
  await kube.create(networkPoliciesPath('default'), networkPolicyObject(NESTED_LAB.policy));
  return { namespace: 'default', name: s.name, clusterIP: s.clusterIP, ports, type: 'ClusterIP', selector: { app: 'nested-web' } };
}

export const nestedStep: LabStep = {
  name: 'nested VMs',
  async run(c: LabContext): Promise<void> {
    if (!c.nested) return;
    const file = need(c.file, 'the lab description');
    c.log(`nested: hypervisor ${NESTED_LAB.hypervisor} with ${NESTED_LAB.vms.map((v) => v.name).join(', ')}`);
    const hv = await startHypervisor(c);
    await nbctl(need(c.central, 'OVN central'), ['--may-exist', 'ls-add', NESTED_LAB.vmSwitch]);
    await attachVmSwitch(c);
    const vms: NestedLabInfo['vms'] = [];
    for (const [i, vm] of NESTED_LAB.vms.entries()) {
      const { netns, underlayIp } = await startVm(c, hv, vm, i);
      const { subnet, dir } = await startNestedNode(c, vm, netns, underlayIp);
      vms.push({ name: vm.name, netns, parentPort: vm.port, nic: 'eth0', ip: vm.ip.split('/')[0], underlayIp, subnet, agentRunDir: dir, pods: [] });
    }
    for (const [i, vm] of vms.entries()) {
      vm.pods.push(await bringUpPod(c, { namespace: 'default', name: `nested-web-${i + 1}`, node: vm.name, labels: { app: 'nested-web' } }));
      vm.pods.push(await bringUpPod(c, { namespace: 'default', name: `nested-client-${i + 1}`, node: vm.name, labels: { app: 'nested-client', role: 'nested-client' } }));
    }
    const service = await nestedWorkloads(c, vms.flatMap((v) => v.pods));
    file.nested = { hypervisor: { name: hv.name, netns: hv.netns, ip: hv.ip, ovsRunDir: hv.ovsRunDir }, vmSwitch: NESTED_LAB.vmSwitch,
      vmRouter: { port: NESTED_LAB.vmRouter.lrp, ip: NESTED_LAB.vmRouter.cidr.split('/')[0] }, vms, service, policy: NESTED_LAB.policy };
    c.log(`nested pods: ${vms.flatMap((v) => v.pods.map((p) => `${p.name}@${v.name} ${p.ip}`)).join(', ')}`);
  },
  check: async (file) => (file.nested ? nestedChecks(file) : []),
};
