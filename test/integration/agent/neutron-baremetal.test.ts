// Kuryr's baremetal layout on the node: a real neutron-server on the node's OVN (the chassis is Neutron's), a VM
// bound to its Neutron port, and a pod whose annotation (translated from its Neutron port as the watcher does) names
// that port as iface_id. The agent (--neutron-ports) plugs the pod into br-int with iface-id = the port id, the
// node's ovn-controller claims Neutron's switch port, and the pod and the VM reach each other at L2 (real packets:
// ping, TCP carrying bytes both ways, full-size frames at the network's MTU), as its security groups decide.
// Nothing gives the Node a node subnet or a management port's LSP: a Neutron ports node needs neither.
// A pod whose annotation names a port that is not its own (a VM's, another pod's) is refused, and the victim keeps it.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE, type TestPod } from './fixture.js';
import { NeutronPortsFixture } from './neutron-fixture.js';
import { stopNeutron } from '../../../lab/openstack/neutron.js';
import { plugVm, type LabVm } from '../../../lab/openstack/vm.js';
import { stopDaemons } from '../../../lab/daemon.js';
import { startDemoServer } from '../../../lab/demo-server.js';
import { POD_SERVER_PORT } from '../../../lab/report.js';
import { assertFullSizePing, assertTcp, linkMtu, tcpConnects } from '../../fixtures/reach.js';
import { waitFor } from '../../../lab/wait.js';
import { nodePath, podPath, type KubeObject } from '../../../lab/kube.js';
import { run } from '../../../lab/exec.js';
import type { NeutronClient } from '../../../lib/neutron/client.js';
import type { NeutronNetwork, NeutronSubnet } from '../../../lib/neutron/types.js';
import { NODE_MGMT_MAC_ANNOTATION, NODE_SUBNET_ANNOTATION, POD_NETWORKS_ANNOTATION } from '../../../lib/kube/annotations.js';
import { managementDevice } from '../../../agent/node-init.js';
import { podNetworkFromPort, podPortOwner } from '../../../watcher/neutron-ports/translate.js';

describe('agent: Kuryr baremetal pods on Neutron ports (real neutron-server, real OVN, real packets)', function () {
  this.timeout(300_000);
  const f = new NeutronPortsFixture();
  // MariaDB runs as the mysql user: not under the fixture's mode-700 dir.
  const dir = join(tmpdir(), 'tessera-itnebm');
  let api: NeutronClient;
  let network: NeutronNetwork;
  let subnet: NeutronSubnet;
  let vm: LabVm;
  let bm1: TestPod;

  before(async () => {
    ({ api, network, subnet } = await f.startWithNeutron(dir, '192.168.20.0/24'));
    f.startAgent();
    // The VM and the pods share the project's default security group, which admits its own members.
    vm = await plugVm({ name: 'vm1', netns: `tag-${f.id}-vm1`, node: f.ovs, port: await api.createPort({ name: 'vm1', network_id: network.id }), prefixLen: 24, gateway: null, runDir: dir, mtu: network.mtu });
  });
  after(async () => {
    if (this.ctx.currentTest?.state === 'failed') process.stderr.write(f.agentLog().slice(-5000));
    await stopDaemons(join(dir, 'vms')).catch(() => undefined);
    await stopDaemons(join(dir, 'pods')).catch(() => undefined);
    await stopNeutron(join(dir, 'neutron')).catch(() => undefined);
    await f.teardown();
  });

  /** A pod with a Neutron port made as the watcher's Neutron mode makes it, and annotated so (or with another iface_id). */
  async function neutronPod(name: string, ifaceId?: string) {
    const p = await f.makePod(name, { annotate: false });
    const port = await api.createPort({ name: `default/${name}`, network_id: network.id, ...podPortOwner(p.uid) });
    const net = { ...podNetworkFromPort(port, subnet, network, { kind: 'baremetal' }), ...(ifaceId ? { iface_id: ifaceId } : {}) };
    await f.kube.patch(podPath(p.namespace, p.name), { metadata: { annotations: { [POD_NETWORKS_ANNOTATION]: JSON.stringify({ default: net }) } } });
    return { p, port, ip: port.fixed_ips[0]!.ip_address };
  }

  it('is ready with no node subnet: no management port, its MAC not announced, no routes for the cluster and service CIDRs', async () => {
    await waitFor('readyz', async () => (await f.health('/readyz')) === 200, 60_000);
    const annotations = (await f.kube.get<KubeObject>(nodePath(NODE))).metadata.annotations ?? {};
    assert.equal(annotations[NODE_SUBNET_ANNOTATION], undefined);
    assert.equal(annotations[NODE_MGMT_MAC_ANNOTATION], undefined);
    assert.equal(await f.ovsPortExists(managementDevice(NODE)), false);
    assert.equal(await run('ip', ['-n', f.nodeNs, 'link', 'show', managementDevice(NODE)]).then(() => true, () => false), false);
    const routes = await run('ip', ['-n', f.nodeNs, '-4', 'route', 'show']);
    assert.doesNotMatch(routes, /^10\.(244|96)\.0\.0\/16 /m);
  });

  it('plugs the pod with iface-id = its Neutron port id; Neutron\'s port binds here and pod and VM ping each other', async () => {
    const { p, port, ip } = await neutronPod('bm1');
    bm1 = p;
    // Bound to the chassis's host before the port goes up, in Nova's order (as Kuryr and Nova bind theirs): Neutron
    // then learns from its OVN that the port is up and reports it ACTIVE, what the watcher turns into
    // tessera.io/port-up. An up that comes before the binding is one Neutron never acts on.
    assert.equal(await f.sbctl(['get', 'Chassis', NODE, 'hostname']), NODE);
    await api.updatePort(port.id, { 'binding:host_id': NODE });
    const res = await f.request(f.addRequest(p));
    assert.ok(res.ok, JSON.stringify(res));
    assert.equal(await f.vsctl(['get', 'Interface', p.hostVeth, 'external_ids:iface-id']), `"${port.id}"`);
    assert.match(await f.vsctl(['get', 'Interface', p.hostVeth, 'external_ids:"tessera.io/pod-port"']), /^"?default_bm1"?$/);
    assert.match(await f.sbctl(['--bare', '--columns=chassis', 'find', 'Port_Binding', `logical_port=${port.id}`]), /^[0-9a-f-]{36}$/);
    assert.match(await f.inNs(p.netns, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']), new RegExp(`${ip.replace(/\./g, '\\.')}/24`));
    await f.inNs(p.netns, 'ping', ['-c', '2', '-W', '2', vm.ip]);
    await f.inNs(vm.netns, 'ping', ['-c', '2', '-W', '2', ip]);
    await waitFor('Neutron port ACTIVE', async () => (await api.getPort(port.id)).status === 'ACTIVE', 60_000);
  });

  it('pod and VM talk TCP both ways (bytes each way), and frames of the network\'s full MTU pass both ways', async () => {
    const ip = (await api.listPorts({ name: 'default/bm1' }))[0]!.fixed_ips[0]!.ip_address;
    await startDemoServer({ dir: join(dir, 'pods', 'bm1'), netns: bm1.netns, name: 'default/bm1' });
    await assertTcp(bm1.netns, vm.ip, 'vm/vm1');
    await assertTcp(vm.netns, ip, 'default/bm1');
    // Pod and VM are L2 neighbours on Neutron's network: both take its MTU, and full-size frames pass either way.
    assert.equal(await linkMtu(bm1.netns), network.mtu);
    assert.equal(await linkMtu(vm.netns), network.mtu);
    await assertFullSizePing(bm1.netns, vm.ip, network.mtu!);
    await assertFullSizePing(vm.netns, ip, network.mtu!);
  });

  it('a security-group rule on the pod\'s port decides what reaches it (real packets, Neutron\'s OVN ACLs)', async () => {
    const port = (await api.listPorts({ name: 'default/bm1' }))[0]!;
    const ip = port.fixed_ips[0]!.ip_address;
    const pings = async (): Promise<boolean> => f.inNs(vm.netns, 'ping', ['-c', '1', '-W', '1', ip]).then(() => true, () => false);
    // A group of its own with no ingress rule: the VM's ping is dropped.
    const sg = await api.createSecurityGroup('bm1-only');
    await api.updatePort(port.id, { security_groups: [sg.id] });
    await waitFor('ping from the VM blocked', async () => !(await pings()), 30_000);
    const rule = await api.createSecurityGroupRule({ security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', remote_ip_prefix: '0.0.0.0/0' });
    await waitFor('ping from the VM admitted by the rule', pings, 30_000);
    await api.deleteSecurityGroupRule(rule.id);
    await waitFor('ping from the VM blocked again', async () => !(await pings()), 30_000);
    // TCP: a rule for the server's port admits connections to it, while a second server on the next port stays
    // unreachable and ICMP stays blocked. The VM's group decides too: the project's default group admits only its
    // members, and bm1 has left it, so bm1's own connections to the VM stop at the VM's port.
    const other = POD_SERVER_PORT + 1;
    await startDemoServer({ dir: join(dir, 'pods', 'bm1'), netns: bm1.netns, name: 'default/bm1', port: other });
    assert.equal(await tcpConnects(vm.netns, ip), false, 'no rule admits TCP yet');
    const tcpRule = await api.createSecurityGroupRule({
      security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: POD_SERVER_PORT, port_range_max: POD_SERVER_PORT, remote_ip_prefix: '0.0.0.0/0',
    });
    await waitFor(`TCP ${POD_SERVER_PORT} from the VM admitted by the rule`, () => tcpConnects(vm.netns, ip), 30_000);
    await assertTcp(vm.netns, ip, 'default/bm1');
    assert.equal(await tcpConnects(vm.netns, ip, other), false, `TCP ${other} stays blocked: the rule admits ${POD_SERVER_PORT} only`);
    assert.equal(await pings(), false, 'ICMP stays blocked');
    assert.equal(await tcpConnects(bm1.netns, vm.ip), false, 'the VM\'s default group admits only its members');
    await api.deleteSecurityGroupRule(tcpRule.id);
    await waitFor(`TCP ${POD_SERVER_PORT} from the VM blocked again`, async () => !(await tcpConnects(vm.netns, ip)), 30_000);
  });

  it('keeps that port through the agent\'s reconcile (the pod is found by tessera.io/pod-port, not iface-id)', async () => {
    const iface = (await f.vsctl(['--bare', '--columns=name', 'find', 'Interface', 'external_ids:"tessera.io/pod-port"=default_bm1'])).trim();
    assert.ok(iface);
    await new Promise((r) => setTimeout(r, 5000)); // two --reconcile-interval 2 passes
    assert.ok(await f.ovsPortExists(iface), 'reconcile left the live pod\'s port alone');
  });

  it('refuses an iface_id that is not a Neutron port id, or one another pod on the node already carries', async () => {
    const taken = (await api.listPorts({ name: 'default/bm1' }))[0]!.id;
    for (const [name, id, why] of [['bm2', 'default_bm1', /is not a Neutron port id/], ['bm3', taken, /is already wired for pod port default_bm1/]] as const) {
      const { p } = await neutronPod(name, id);
      const res = await f.request(f.addRequest(p));
      assert.equal(res.ok, false);
      assert.match((res as { msg: string }).msg, why);
      assert.equal(await f.ovsPortExists(p.hostVeth), false);
    }
  });

  it('refuses a pod network without iface_id: this node wires only Neutron ports (code 100 naming it, nothing plugged)', async () => {
    const p = await f.makePod('plain1', { annotate: false });
    const net = { ip_addresses: ['10.244.1.11/24'], mac_address: '0a:58:0a:f4:01:0b', gateway_ips: ['10.244.1.1'] };
    await f.kube.patch(podPath(p.namespace, p.name), { metadata: { annotations: { [POD_NETWORKS_ANNOTATION]: JSON.stringify({ default: net }) } } });
    const res = await f.request(f.addRequest(p, { config: { annotationTimeoutMs: 2000, ovnInstalledTimeoutMs: 10_000 } }));
    assert.equal(res.ok, false);
    assert.equal((res as { code: number }).code, 100);
    assert.match((res as { msg: string }).msg, /has no iface_id: this agent \(--neutron-ports\) wires only pods on Neutron ports/);
    assert.equal(await f.ovsPortExists(p.hostVeth), false);
  });

  it('refuses an iface_id naming a VM\'s port or another pod\'s port; the victims keep their binding and traffic', async () => {
    const chassisOf = async (id: string) => f.sbctl(['--bare', '--columns=chassis', 'find', 'Port_Binding', `logical_port=${id}`]);
    // A VM on this node, up and bound here: the annotation's owner names its port.
    const vmChassis = await chassisOf(vm.portId);
    assert.match(vmChassis, /^[0-9a-f-]{36}$/);
    // Another pod's port, made for it and bound to this node, not plugged yet (its ADD has not come).
    const victim = await neutronPod('victim');
    await api.updatePort(victim.port.id, { 'binding:host_id': NODE });
    for (const [name, id] of [['thief1', vm.portId], ['thief2', victim.port.id]] as const) {
      const { p } = await neutronPod(name, id);
      const res = await f.request(f.addRequest(p));
      assert.equal(res.ok, false, `${name} naming ${id}: ${JSON.stringify(res)}`);
      assert.match((res as { msg: string }).msg, new RegExp(`iface_id ${id} is not this pod's Neutron port: its device_owner is "[^"]*" and device_id "[^"]*", not "tessera:pod" and the pod's uid ${p.uid}`));
      assert.equal((res as { code: number }).code, 100);
      assert.equal(await f.ovsPortExists(p.hostVeth), false);
    }
    assert.equal(await chassisOf(vm.portId), vmChassis, 'the VM\'s port is still bound to its own interface\'s chassis');
    assert.equal(await f.vsctl(['--bare', '--columns=name', 'find', 'Interface', `external_ids:iface-id=${vm.portId}`]), `tap${vm.portId.slice(0, 11)}`);
    assert.equal(await chassisOf(victim.port.id), '', 'nobody claimed the victim pod\'s port');
    // The victim pod's own ADD gets its port; it and the VM reach each other (real packets on both victims' ports).
    const res = await f.request(f.addRequest(victim.p));
    assert.ok(res.ok, JSON.stringify(res));
    assert.match(await chassisOf(victim.port.id), /^[0-9a-f-]{36}$/);
    await f.inNs(victim.p.netns, 'ping', ['-c', '2', '-W', '2', vm.ip]);
    await f.inNs(vm.netns, 'ping', ['-c', '2', '-W', '2', victim.ip]);
    assert.ok((await f.request({ ...f.addRequest(victim.p), command: 'DEL' })).ok);
  });

  it('DEL removes the pod\'s port from br-int; Neutron\'s switch port is unbound', async () => {
    const port = (await api.listPorts({ name: 'default/bm1' }))[0]!;
    const res = await f.request({ ...f.addRequest(bm1), command: 'DEL' });
    assert.ok(res.ok, JSON.stringify(res));
    assert.equal(await f.ovsPortExists(bm1.hostVeth), false);
    await waitFor('port unbound', async () => (await f.sbctl(['--bare', '--columns=chassis', 'find', 'Port_Binding', `logical_port=${port.id}`])) === '', 30_000);
  });
});
