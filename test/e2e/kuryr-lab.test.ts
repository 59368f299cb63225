// Kuryr's nested and baremetal layouts together on a real neutron-server (ML2/OVN, trunk plugin), its real OVN and
// real packets. Node n1 is a chassis of Neutron's OVN and runs the watcher in Neutron pod-port mode and a baremetal
// agent (--neutron-ports). VM vm1's port is a trunk parent; a nested agent runs inside vm1 (its eth0 the parent).
// vm2 is a plain VM on the same network. The watcher makes the nested pod a VLAN subport of vm1's trunk, the nested
// agent wires the VLAN, and the nested pod, the baremetal pod and vm2 reach each other (ping, TCP carrying bytes both
// ways, full-size frames at the network's MTU); deleting the nested pod removes its subport and its port (asserted
// through Neutron's API). Nothing but the watcher annotates the Nodes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE } from '../integration/agent/fixture.js';
import { added, ok } from '../integration/agent/answers.js';
import { NeutronPortsFixture } from '../integration/agent/neutron-fixture.js';
import { stopNeutron } from '../../lab/openstack/neutron.js';
import { plugVm, type LabVm } from '../../lab/openstack/vm.js';
import { createNeutronSecret, startNestedVmAgent, startNeutronWatcher } from '../../lab/openstack/kuryr.js';
import { stopDaemons } from '../../lab/daemon.js';
import { startDemoServer } from '../../lab/demo-server.js';
import { assertFullSizePing, assertTcp, linkMtu } from '../fixtures/reach.js';
import { addNetns } from '../../lab/netns.js';
import { run } from '../../lab/exec.js';
import { nodePath, podPath, type KubeObject } from '../../lab/kube.js';
import { waitFor } from '../../lab/wait.js';
import { REPO_ROOT } from '../../lab/paths.js';
import { startOvsdbServer, type OvsdbServer } from '../../testkit/ovsdb-server.js';
import { managementDevice } from '../../agent/node-init.js';
import type { AgentRequest } from '../../lib/cni-protocol.js';
import type { NeutronClient } from '../../lib/neutron/client.js';
import type { NeutronPort, NeutronTrunk } from '../../lib/neutron/types.js';
import { NODE_NESTED_PARENT_ANNOTATION, NODE_SUBNET_ANNOTATION, POD_NETWORKS_ANNOTATION, POD_PORT_UP_ANNOTATION, type PodNetworks } from '../../lib/kube/annotations.js';

const VM1 = 'vm1';
const CLUSTER = 'kuryr-e2e';

interface Pod { name: string; uid: string; netns: string; containerId: string }

describe('e2e: Kuryr nested + baremetal pods on a real Neutron (trunk subports, real OVN, real packets)', function () {
  this.timeout(600_000);
  const f = new NeutronPortsFixture();
  // MariaDB runs as the mysql user: not under the fixture's mode-700 dir.
  const dir = join(tmpdir(), 'tessera-e2ekuryr');
  const binDir = join(REPO_ROOT, 'dist', 'bin');
  let api: NeutronClient;
  let scratchNb: OvsdbServer;
  let vm1: LabVm;
  let vm2: LabVm;
  let trunk: NeutronTrunk;
  let mtu: number;
  let nestedCni: string;
  let nested: Pod;
  let bm: Pod;
  let seq = 0;

  const annotations = async (name: string): Promise<Record<string, string>> =>
    (await f.kube.get<KubeObject>(podPath('default', name))).metadata.annotations ?? {};
  const net = async (name: string) => {
    const raw = (await annotations(name))[POD_NETWORKS_ANNOTATION];
    return raw ? (JSON.parse(raw) as PodNetworks).default : undefined;
  };
  const ipOf = async (name: string): Promise<string> => (await net(name))!.ip_addresses[0]!.split('/')[0]!;
  const portsOf = (uid: string): Promise<NeutronPort[]> => api.listPorts({ tags: `tessera-pod:${uid}` });
  const addReq = (p: Pod): Partial<AgentRequest> & Pick<AgentRequest, 'command'> => ({
    command: 'ADD', containerId: p.containerId, netns: `/var/run/netns/${p.netns}`, ifname: 'eth0', podNamespace: 'default', podName: p.name, podUid: p.uid,
    config: { annotationTimeoutMs: 60_000, ovnInstalledTimeoutMs: 90_000 },
  });
  /** A pod object on `node` and its netns: the watcher gives it its Neutron port. */
  async function makePod(name: string, node: string): Promise<Pod> {
    const netns = `tag-${f.id}-k${++seq}`;
    await addNetns(netns);
    const created = await f.kube.create<KubeObject>('/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: node, containers: [{ name: 'c', image: 'x' }] },
    });
    return { name, uid: created.metadata.uid ?? '', netns, containerId: randomBytes(32).toString('hex') };
  }
  const ping = (from: string, to: string): Promise<string> => f.inNs(from, 'ping', ['-c', '2', '-W', '3', to]);

  before(async () => {
    const pods = await f.startWithNeutron(dir, '192.168.30.0/24');
    const { neutron, network, subnet } = pods;
    api = pods.api;
    mtu = network.mtu!;
    // vm1's port is the trunk parent; both VMs bind on n1 (Neutron's host = the chassis hostname), as Nova binds.
    const vm1Port = await api.createPort({ name: VM1, network_id: network.id });
    trunk = await api.createTrunk('vm1-trunk', vm1Port.id);
    vm1 = await plugVm({ name: VM1, netns: `tag-${f.id}-vm1`, node: f.ovs, port: vm1Port, prefixLen: 24, gateway: null, runDir: dir, mtu });
    vm2 = await plugVm({ name: 'vm2', netns: `tag-${f.id}-vm2`, node: f.ovs, port: await api.createPort({ name: 'vm2', network_id: network.id }), prefixLen: 24, gateway: null, runDir: dir, mtu });
    for (const v of [vm1, vm2]) await api.updatePort(v.portId, { 'binding:host_id': NODE });
    await createNeutronSecret(f.kube, neutron, api.projectId);
    await f.kube.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: VM1, annotations: { [NODE_NESTED_PARENT_ANNOTATION]: vm1Port.id } } });
    mkdirSync(join(dir, 'watcher-nb'), { recursive: true });
    scratchNb = await startOvsdbServer({ dir: join(dir, 'watcher-nb') });
    startNeutronWatcher({ dir: join(dir, 'watcher'), netns: f.nodeNs, binDir, api: f.api, nb: scratchNb.unix, network: network.id, subnet: subnet.id, clusterName: CLUSTER });
    f.startAgent();
    await waitFor('baremetal agent ready', async () => (await f.health('/readyz')) === 200, 90_000);
    ({ cniSocket: nestedCni } = await startNestedVmAgent({ dir: join(dir, 'vm1-agent'), vmNetns: vm1.netns, node: VM1, binDir, api: f.api, healthPort: f.healthPort + 1 }));
  });
  after(async () => {
    if (this.ctx.currentTest?.state === 'failed') {
      for (const log of ['watcher/tessera-watcher.log', 'vm1-agent/tessera-agent.log']) {
        try {
          process.stderr.write(`--- ${log}\n${readFileSync(join(dir, log), 'utf8').slice(-5000)}\n`);
        } catch { /* not started */ }
      }
      process.stderr.write(f.agentLog().slice(-3000));
    }
    await stopDaemons(join(dir, 'vm1-agent')).catch(() => undefined);
    await stopDaemons(join(dir, 'watcher')).catch(() => undefined);
    await stopDaemons(join(dir, 'vms')).catch(() => undefined);
    await stopDaemons(join(dir, 'pods')).catch(() => undefined);
    await stopNeutron(join(dir, 'neutron')).catch(() => undefined);
    await scratchNb?.cleanup();
    await f.teardown();
  });

  it('the nested pod becomes a VLAN subport of vm1\'s trunk, the nested agent inside vm1 wires it, and it reaches vm2 (ICMP, TCP, full-size frames)', async () => {
    nested = await makePod('nested1', VM1);
    await waitFor('nested1 annotated by the watcher', async () => (await net('nested1')) !== undefined, 60_000);
    const n = await net('nested1');
    const [port] = await portsOf(nested.uid);
    assert.ok(port, 'the watcher made a Neutron port tagged with the pod uid');
    assert.equal(n!.iface_id, port.id);
    assert.deepEqual((await api.getTrunk(trunk.id)).sub_ports.find((s) => s.port_id === port.id), { port_id: port.id, segmentation_type: 'vlan', segmentation_id: n!.vlan });
    const res = added(await f.request(addReq(nested), 120_000, nestedCni));
    assert.equal(res.interfaces?.[0]?.mac, port.mac_address);
    assert.equal((await annotations('nested1'))[POD_PORT_UP_ANNOTATION], port.id, 'ADD answered once Neutron reported the subport up');
    assert.equal((await api.getPort(port.id)).status, 'ACTIVE');
    const ip = await ipOf('nested1');
    assert.match(await f.inNs(nested.netns, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']), new RegExp(`${ip.replace(/\./g, '\\.')}/24`));
    await ping(nested.netns, vm2.ip);
    await ping(vm2.netns, ip);
    await startDemoServer({ dir: join(dir, 'pods', 'nested1'), netns: nested.netns, name: 'default/nested1' });
    await assertTcp(nested.netns, vm2.ip, 'vm/vm2');
    await assertTcp(vm2.netns, ip, 'default/nested1');
    // The subport's frames carry a VLAN tag on vm1's NIC; the pod still gets the network's whole MTU, both ways.
    assert.equal(await linkMtu(nested.netns), mtu);
    await assertFullSizePing(nested.netns, vm2.ip, mtu);
    await assertFullSizePing(vm2.netns, ip, mtu);
  });

  it('a baremetal pod on n1 (its Neutron port as iface_id) reaches the nested pod and both VMs (ICMP, TCP, full-size frames)', async () => {
    bm = await makePod('bm1', NODE);
    await waitFor('bm1 annotated by the watcher', async () => (await net('bm1'))?.iface_id !== undefined, 60_000);
    ok(await f.request(addReq(bm), 120_000));
    const nestedIp = await ipOf('nested1');
    await ping(bm.netns, nestedIp);
    await ping(bm.netns, vm2.ip);
    await ping(nested.netns, await ipOf('bm1'));
    // vm1 itself (the trunk parent's untagged traffic) stays reachable alongside its subports.
    await ping(bm.netns, vm1.ip);
    // The watcher's node sync still gives n1 a subnet of its own NB, which the baremetal agent leaves alone: no
    // management port and no cluster/service CIDR routes through a port Neutron's OVN would never bind.
    assert.ok((await f.kube.get<KubeObject>(nodePath(NODE))).metadata.annotations?.[NODE_SUBNET_ANNOTATION], 'the watcher annotated n1\'s subnet');
    assert.equal(await f.ovsPortExists(managementDevice(NODE)), false);
    assert.doesNotMatch(await run('ip', ['-n', f.nodeNs, '-4', 'route', 'show']), /^10\.(244|96)\.0\.0\/16 /m);
    const bmIp = await ipOf('bm1');
    await startDemoServer({ dir: join(dir, 'pods', 'bm1'), netns: bm.netns, name: 'default/bm1' });
    await assertTcp(bm.netns, vm2.ip, 'vm/vm2');
    await assertTcp(vm2.netns, bmIp, 'default/bm1');
    await assertTcp(bm.netns, nestedIp, 'default/nested1');
    await assertTcp(nested.netns, bmIp, 'default/bm1');
    // The baremetal pod takes the network's MTU from its Neutron port, as the VMs take it from Neutron: L2 neighbours.
    assert.equal(await linkMtu(bm.netns), mtu);
    await assertFullSizePing(bm.netns, vm2.ip, mtu);
    await assertFullSizePing(bm.netns, nestedIp, mtu);
  });

  it('deleting the nested pod removes its subport and its port (Neutron\'s API), and the nested agent its link', async () => {
    const [port] = await portsOf(nested.uid);
    ok(await f.request({ ...addReq(nested), command: 'DEL' }, 30_000, nestedCni));
    assert.equal(await run('ip', ['-n', nested.netns, 'link', 'show', 'eth0']).then(() => true, () => false), false);
    await f.kube.delete(podPath('default', 'nested1'));
    await waitFor('nested1\'s port deleted', async () => (await portsOf(nested.uid)).length === 0, 60_000);
    assert.ok(!(await api.getTrunk(trunk.id)).sub_ports.some((s) => s.port_id === port!.id), 'no subport left on the trunk');
    await assert.rejects(api.getPort(port!.id));
    assert.equal((await api.listPorts({ tags: `tessera-cluster:${CLUSTER}` })).length, 1, 'only bm1\'s port stays');
    assert.ok((await f.kube.get<KubeObject>(nodePath(VM1))).metadata.name);
  });
});
