// The watcher's Neutron pod-port mode against a real neutron-server (ML2/OVN, trunk plugin) and its real OVN NB:
// nested pods become VLAN subports of their VM's trunk, baremetal pods plain ports with iface_id once bound, deletion removes
// subport and port, a refused parent port is an Event on the Node, a restart collects ports of pods gone meanwhile
// (also a port whose tags never went on, found by what its POST stored; a live pod's is adopted),
// Neutron down and OverQuota are pod Events with no port left half-made, and a Namespace's security groups apply.
// The watcher reads Neutron's endpoint from a Secret (noauth); a TCP forwarder in the test reaches the API socket.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { nbctl, sbctl, type Central } from '../../../lab/ovn-central.js';
import { stopDaemons } from '../../../lab/daemon.js';
import { startOvnController, startOvsDaemons, vsctl } from '../../../lab/ovs-node.js';
import { succeeds } from '../../../lab/exec.js';
import { delNetns } from '../../../lab/netns.js';
import { neutronClient, startNeutronServer, startNeutronWithCentral, stopNeutron, stopNeutronServer, type Neutron } from '../../../lab/openstack/neutron.js';
import type { NeutronClient } from '../../../lib/neutron/client.js';
import type { NeutronPort, NeutronSubnet, NeutronTrunk } from '../../../lib/neutron/types.js';
import { findResource, type KubeObject } from '../../../kube-double/resources.js';
import { WatcherFixture, until, type WatcherProc } from './fixture.js';

const NETNS = 'tessera-itneup';
const CLUSTER = 'it';
const ERR = 'tessera.io/pod-network-error';

describe('watcher: pods as Neutron ports (real neutron-server, trunk plugin)', function () {
  this.timeout(600_000);
  const f = new WatcherFixture();
  // Not under the fixture's mkdtemp dir (mode 700): MariaDB runs as the mysql user.
  const dir = join(tmpdir(), 'tessera-itneup');
  let central: Central;
  let neutron: Neutron;
  let api: NeutronClient;
  let fwd: Server;
  let subnet: NeutronSubnet;
  let trunk: NeutronTrunk;
  let vmPort: NeutronPort;
  let plainPort: NeutronPort;
  let w: WatcherProc;
  let cutSubports = false;

  const annotations = (name: string, ns = 'default'): Record<string, string> => f.get('pod', ns, name)?.metadata.annotations ?? {};
  const net = (name: string, ns = 'default') => {
    const raw = annotations(name, ns)['tessera.io/pod-networks'];
    return raw ? (JSON.parse(raw) as { default: { ip_addresses: string[]; mac_address: string; vlan?: number; iface_id?: string; logical_switch: string; gateway_ips: string[] } }).default : undefined;
  };
  const uid = (name: string, ns = 'default'): string => f.get('pod', ns, name)!.metadata.uid!;
  const portsOf = async (podUid: string) => api.listPorts({ tags: `tessera-pod:${podUid}` });
  const ourPorts = async () => api.listPorts({ tags: `tessera-cluster:${CLUSTER}` });
  const events = (kind: string, name: string, reason: string): KubeObject[] =>
    f.list('event', 'default').concat(f.list('event', 'kube-system'))
      .filter((e) => (e.involvedObject as { name: string; kind: string }).name === name && (e.involvedObject as { kind: string }).kind === kind && e.reason === reason);
  /** Neutron's, OVN's and the watcher's view of a port, for a failure message. */
  const portDiagnosis = async (id: string): Promise<string> => {
    const safe = (p: Promise<string>) => p.catch((e: Error) => `(${e.message})`);
    const p = await api.getPort(id).catch(() => undefined);
    const neutronLog = (() => { try { return readFileSync(join(neutron.dir, 'neutron.log'), 'utf8'); } catch { return ''; } })()
      .split('\n').filter((l) => l.includes(id)).slice(-30).join('\n');
    return [
      `Neutron port: status=${p?.status} vif_type=${p?.['binding:vif_type']} host_id=${p?.['binding:host_id']}`,
      `SB Port_Binding: ${await safe(sbctl(central, ['--columns=chassis,up,options', 'find', 'Port_Binding', `logical_port=${id}`]))}`,
      `SB Chassis: ${await safe(sbctl(central, ['--columns=name,hostname', 'list', 'Chassis']))}`,
      `NB LSP up/options: ${await safe(nbctl(central, ['--columns=up,options', 'list', 'Logical_Switch_Port', id]))}`,
      `neutron.log lines naming the port:\n${neutronLog}`,
      `watcher log (tail):\n${w.log().slice(-4000)}`,
    ].join('\n');
  };
  let bm1Db = '';
  /** Node bm1's OVS and ovn-controller: its chassis (hostname bm1) registers on Neutron's SB. */
  const startBm1 = async () => {
    const node = { name: 'bm1', netns: NETNS, dir: join(dir, 'bm1') };
    const { dbSocket } = await startOvsDaemons(NETNS, node.dir);
    bm1Db = dbSocket;
    await startOvnController({ ...node, dbSocket, encapIp: '127.0.0.1', sbRemote: `unix:${central.sbSocket}` });
    await until(() => succeeds('ovs-vsctl', [`--db=unix:${dbSocket}`, 'br-exists', 'br-int']), 30_000, 'br-int');
  };
  const startWatcher = () => f.startWatcher(['--no-leader-election', '--neutron-secret', 'kube-system/tessera-neutron', '--neutron-network', subnet.network_id,
    '--neutron-subnet', subnet.id, '--neutron-cluster-name', CLUSTER]);

  before(async () => {
    await f.start();
    await stopNeutron(join(dir, 'neutron')).catch(() => undefined);
    ({ central, neutron } = await startNeutronWithCentral(dir, NETNS));
    api = neutronClient(neutron);
    // The watcher runs in the root netns: a TCP port here forwards to the API's unix socket.
    // The watcher runs in the root netns: a TCP port here forwards to the API's unix socket. While `cutSubports` is
    // set, it drops any connection that asks to add subports (Neutron failing between port create and trunk add).
    fwd = createServer((c) => {
      const u = createConnection(neutron.socket);
      c.on('data', (d: Buffer) => {
        if (cutSubports && d.includes('add_subports')) {
          c.destroy();
          u.destroy();
        } else u.write(d);
      });
      u.pipe(c);
      u.on('error', () => c.destroy());
      c.on('error', () => u.destroy());
      c.on('end', () => u.end());
    });
    await new Promise<void>((r) => fwd.listen(0, '127.0.0.1', r));
    const network = await api.createNetwork('pods');
    subnet = await api.createSubnet({ name: 'pods', network_id: network.id, cidr: '192.168.10.0/24' });
    vmPort = await api.createPort({ name: 'vm1', network_id: network.id });
    trunk = await api.createTrunk('vm1-trunk', vmPort.id);
    plainPort = await api.createPort({ name: 'vm2', network_id: network.id });
    const endpoint = `http://127.0.0.1:${(fwd.address() as AddressInfo).port}`;
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    f.store.create(findResource('', 'v1', 'secrets')!, 'kube-system', {
      metadata: { namespace: 'kube-system', name: 'tessera-neutron' },
      data: { OS_AUTH_TYPE: b64('noauth'), OS_ENDPOINT: b64(endpoint), OS_PROJECT_ID: b64(api.projectId) },
    });
    f.create('node', { metadata: { name: 'vm1', annotations: { 'tessera.io/nested-parent-port': vmPort.id } } });
    f.create('node', { metadata: { name: 'bad', annotations: { 'tessera.io/nested-parent-port': plainPort.id } } });
    f.node('bm1');
    w = startWatcher();
  });
  after(async () => {
    if (this.ctx.currentTest?.state === 'failed') process.stderr.write(w?.log().slice(-6000) ?? '');
    fwd?.close();
    await f.stop();
    await stopNeutron(join(dir, 'neutron'));
    await stopDaemons(dir);
    await delNetns(NETNS);
  });

  it('nested pods become VLAN subports of their VM\'s trunk (ids 1, 2), annotated with Neutron\'s IP, MAC and VLAN', async () => {
    f.pod('default', 'n1', 'vm1');
    f.pod('default', 'n2', 'vm1');
    const n1 = await until(() => net('n1'), 60_000, 'n1 annotated');
    const n2 = await until(() => net('n2'), 60_000, 'n2 annotated');
    assert.deepEqual([n1.vlan, n2.vlan].sort(), [1, 2]);
    const [p1] = await portsOf(uid('n1'));
    assert.ok(p1, 'n1 has a Neutron port found by its uid tag');
    assert.deepEqual(p1.tags?.sort(), ['tessera', `tessera-cluster:${CLUSTER}`, `tessera-pod:${uid('n1')}`].sort());
    assert.equal(p1.name, 'default/n1');
    assert.equal(n1.ip_addresses[0], `${p1.fixed_ips[0]!.ip_address}/24`);
    assert.equal(n1.mac_address, p1.mac_address);
    assert.deepEqual(n1.gateway_ips, ['192.168.10.1']);
    assert.equal(n1.iface_id, p1.id, 'iface_id names the subport: the port-up the nested agent waits for');
    assert.equal((await api.getPort(p1.id)).device_owner, 'trunk:subport', 'a subport\'s owner is Neutron\'s trunk');
    const t = await api.getTrunk(trunk.id);
    assert.deepEqual(t.sub_ports.find((s) => s.port_id === p1.id), { port_id: p1.id, segmentation_type: 'vlan', segmentation_id: n1.vlan });
    // Neutron's OVN: the child port hangs from the VM's port with the tag.
    assert.equal(await nbctl(central, ['get', 'Logical_Switch_Port', p1.id, 'parent_name']), `"${vmPort.id}"`);
    assert.equal(await nbctl(central, ['get', 'Logical_Switch_Port', p1.id, 'tag']), String(n1.vlan));
    assert.equal(annotations('n1')['tessera.io/port-up'], undefined, 'no chassis binds it: not up');
  });

  it('deleting a nested pod removes its subport and its port; its VLAN id is free again', async () => {
    const u = uid('n1');
    const [p1] = await portsOf(u);
    const vlan = net('n1')!.vlan;
    f.remove('pod', 'default', 'n1');
    await until(async () => (await portsOf(u)).length === 0, 30_000, 'n1\'s port deleted');
    const t = await api.getTrunk(trunk.id);
    assert.ok(!t.sub_ports.some((s) => s.port_id === p1!.id));
    f.pod('default', 'n3', 'vm1');
    assert.equal((await until(() => net('n3'), 60_000, 'n3 annotated')).vlan, vlan);
  });

  it('a baremetal pod on a node with no chassis yet: a port bound to the node, a binding Event, no iface_id', async () => {
    f.pod('default', 'b1', 'bm1');
    const ev = await until(() => events('Pod', 'b1', 'NeutronBindingFailed')[0], 60_000, 'NeutronBindingFailed Event');
    const [p] = await portsOf(uid('b1'));
    assert.match(ev.message as string, new RegExp(`could not bind port ${p!.id} to host bm1 .*chassis`));
    await until(() => /^NeutronBindingFailed: /.test(annotations('b1')[ERR] ?? ''), 30_000, 'pod-network-error');
    assert.equal(p!['binding:host_id'], 'bm1', 'bound to the node\'s chassis host');
    assert.equal(p!['binding:vif_type'], 'binding_failed');
    assert.equal(net('b1'), undefined, 'no iface_id for the agent to plug while the binding has failed');
    // What the agent checks before plugging the pod into this port, as ovn-northd copies it into the Port_Binding.
    assert.deepEqual([p!.device_owner, p!.device_id], ['tessera:pod', uid('b1')]);
    const ids = await sbctl(central, ['get', 'Port_Binding', p!.id, 'external_ids']);
    assert.match(ids, /"neutron:device_owner"="?tessera:pod"?/);
    assert.match(ids, new RegExp(`"neutron:device_id"="?${uid('b1')}"?`));
  });

  it('the node\'s chassis comes up while the watcher is away: iface_id follows the working binding, and the port goes ACTIVE', async () => {
    // The order that left a port DOWN for good: plugged (OVN "up") while its binding had failed, re-bound later.
    // The watcher is away while the chassis appears, and the emulated agent plugs whatever iface_id it is given at once.
    await w.kill('SIGKILL');
    await startBm1();
    const plug = async (id: string) => vsctl({ dbSocket: bm1Db }, ['--may-exist', 'add-port', 'br-int', 'pb1', '--', 'set', 'Interface', 'pb1', 'type=internal', `external_ids:iface-id=${id}`]);
    const early = net('b1')?.iface_id;
    if (early) await plug(early);
    w = startWatcher();
    const b1 = await until(() => net('b1'), 60_000, 'b1 annotated once its binding works');
    if (!early) await plug(b1.iface_id!);
    const [p] = await portsOf(uid('b1'));
    assert.equal(b1.iface_id, p!.id);
    assert.equal(b1.vlan, undefined);
    assert.equal(b1.logical_switch, `neutron-${subnet.network_id}`);
    assert.equal(await nbctl(central, ['get', 'Logical_Switch_Port', p!.id, 'parent_name']), '[]');
    await until(() => annotations('b1')[ERR] === undefined, 30_000, 'pod-network-error removed');
    await until(() => annotations('b1')['tessera.io/port-up'] === b1.iface_id, 60_000, 'port-up = the port id')
      .catch(async (e: Error) => { throw new Error(`${e.message}\n${await portDiagnosis(b1.iface_id!)}`); });
    const port = await api.getPort(b1.iface_id!);
    assert.equal(port.status, 'ACTIVE');
    assert.equal(port['binding:vif_type'], 'ovs');
    await vsctl({ dbSocket: bm1Db }, ['del-port', 'br-int', 'pb1']);
  });

  it('writes tessera.io/port-up = the port id once Neutron reports it ACTIVE (a chassis bm1 claims it), never a stale value', async () => {
    f.pod('default', 'u1', 'bm1');
    const u1 = await until(() => net('u1'), 60_000, 'u1 annotated');
    // A value naming another port (an earlier incarnation's, or anyone's write) is taken away while the port is down.
    f.patch('pod', 'default', 'u1', { metadata: { annotations: { 'tessera.io/port-up': '00000000-0000-0000-0000-000000000000' } } });
    await until(() => annotations('u1')['tessera.io/port-up'] === undefined, 30_000, 'stale port-up removed');
    // An iface_id naming another port (here the VM's) is set back to the pod's own, with an Event on the pod.
    f.patch('pod', 'default', 'u1', { metadata: { annotations: { 'tessera.io/pod-networks': JSON.stringify({ default: { ...u1, iface_id: vmPort.id } }) } } });
    const ev = await until(() => events('Pod', 'u1', 'PodNetworksAnnotationRestored')[0], 30_000, 'PodNetworksAnnotationRestored Event');
    assert.equal(ev.message, `tessera.io/pod-networks named "${vmPort.id}" as iface_id, not this pod's Neutron port; set back to ${u1.iface_id}`);
    await until(() => net('u1')?.iface_id === u1.iface_id ? true : undefined, 30_000, 'iface_id set back');
    // The node's chassis (hostname bm1, on Neutron's SB) claims the port as the agent's br-int port would.
    await vsctl({ dbSocket: bm1Db }, ['add-port', 'br-int', 'pu1', '--', 'set', 'Interface', 'pu1', 'type=internal', `external_ids:iface-id=${u1.iface_id}`]);
    await until(() => annotations('u1')['tessera.io/port-up'] === u1.iface_id, 90_000, 'port-up = the port id')
      .catch(async (e: Error) => { throw new Error(`${e.message}\n${await portDiagnosis(u1.iface_id!)}`); });
    assert.equal((await api.getPort(u1.iface_id!)).status, 'ACTIVE');
    await vsctl({ dbSocket: bm1Db }, ['del-port', 'br-int', 'pu1']);
  });

  it('refuses a parent port that is not a trunk parent: an Event on the Node and on the pod, no port', async () => {
    f.pod('default', 'x1', 'bad');
    const ev = await until(() => events('Node', 'bad', 'NestedParentPortRefused')[0], 30_000, 'Node Event');
    assert.match(ev.message as string, new RegExp(`names port ${plainPort.id}, which is not the parent of a trunk`));
    await until(() => events('Pod', 'x1', 'NestedParentPortRefused')[0], 30_000, 'pod Event');
    // The Event and the pod-network-error annotation are two separate writes: wait for the second too.
    await until(() => /NestedParentPortRefused/.test(annotations('x1')[ERR] ?? ''), 30_000, 'pod-network-error');
    assert.equal((await portsOf(uid('x1'))).length, 0);
    assert.equal(net('x1'), undefined);
  });

  it('after a restart, removes the ports (and subports) of pods deleted while it was down', async () => {
    await w.kill('SIGKILL');
    const gone = [uid('n2'), uid('b1')];
    f.remove('pod', 'default', 'n2');
    f.remove('pod', 'default', 'b1');
    assert.equal((await portsOf(gone[0]!)).length, 1);
    w = startWatcher();
    for (const u of gone) await until(async () => (await portsOf(u)).length === 0, 60_000, `port of pod ${u} collected`);
    const t = await api.getTrunk(trunk.id);
    assert.equal(t.sub_ports.length, 1, 'only n3\'s subport stays');
    assert.equal((await portsOf(uid('n3'))).length, 1, 'a live pod keeps its port');
  });

  it('a port whose tags never went on (watcher killed after the POST): a restart adopts a live pod\'s, removes a deleted pod\'s, leaves look-alikes', async () => {
    const marks = (cluster: string, podUid: string) => ({ device_owner: 'tessera:pod', description: `tessera-cluster:${cluster} tessera-pod:${podUid}` });
    // What the watcher's POST stores, seen on ports it made: the only marks a port has before its tags go on. A
    // subport keeps its description (Neutron makes its device_owner trunk:subport).
    const [u1Port] = await portsOf(uid('u1'));
    assert.deepEqual([u1Port!.device_owner, u1Port!.description], Object.values(marks(CLUSTER, uid('u1'))));
    const [n3Port] = await portsOf(uid('n3'));
    assert.deepEqual([n3Port!.device_owner, n3Port!.description], ['trunk:subport', marks(CLUSTER, uid('n3')).description]);
    await w.kill('SIGKILL');
    // Killed between POST and tag PUT, for a pod that stays (k1) and for one deleted while the watcher is away (k2).
    f.pod('default', 'k1', 'bm1');
    f.pod('default', 'k2', 'bm1');
    const k1 = uid('k1');
    const k2 = uid('k2');
    const posted = (name: string, podUid: string) =>
      api.createPort({ name: `default/${name}`, network_id: subnet.network_id, fixed_ips: [{ subnet_id: subnet.id }], ...marks(CLUSTER, podUid) });
    const k1Port = await posted('k1', k1);
    const k2Port = await posted('k2', k2);
    f.remove('pod', 'default', 'k2');
    // Ports Tessera's watcher for this cluster did not make, named like pod ports: Kuryr's (the pod uid as device_id),
    // another cluster's, and one with the description alone.
    const foreign = [
      await api.createPort({ name: 'default/k2', network_id: subnet.network_id, device_id: k2 }),
      await api.createPort({ name: 'default/k1', network_id: subnet.network_id, ...marks('other', k1) }),
      await api.createPort({ name: 'default/k2', network_id: subnet.network_id, description: marks(CLUSTER, k2).description }),
    ];
    w = startWatcher();
    const k1Net = await until(() => net('k1'), 60_000, 'k1 annotated');
    assert.equal(k1Net.iface_id, k1Port.id, 'the live pod\'s untagged port is adopted');
    assert.deepEqual((await api.getPort(k1Port.id)).tags?.sort(), ['tessera', `tessera-cluster:${CLUSTER}`, `tessera-pod:${k1}`].sort());
    const named = async (name: string) => (await api.listPorts({ name })).map((p) => p.id).sort();
    assert.deepEqual(await named('default/k1'), [k1Port.id, foreign[1]!.id].sort(), 'no second port for k1');
    await until(async () => (await named('default/k2')).join() === [foreign[0]!.id, foreign[2]!.id].sort().join(), 60_000, 'the deleted pod\'s untagged port removed');
    assert.ok(!(await named('default/k2')).includes(k2Port.id));
    await until(() => /removed \d+ ports of pods that no longer exist/.test(w.log()), 30_000, 'the restart sweep finished');
    for (const p of foreign) {
      const now = await api.getPort(p.id);
      assert.deepEqual([now.device_owner, now.description, now.tags], [p.device_owner, p.description, []], `${p.name} (${p.description || p.device_id}) untouched`);
    }
    f.remove('pod', 'default', 'k1');
    await until(async () => (await named('default/k1')).join() === foreign[1]!.id, 30_000, 'k1\'s port deleted with its pod');
    for (const p of foreign) await api.deletePort(p.id);
  });

  it('Neutron down during a pod create: a pod Event and pod-network-error, no port; back up, the pod gets its network', async () => {
    await stopNeutronServer(neutron);
    try {
      f.pod('default', 'd1', 'vm1');
      const ev = await until(() => events('Pod', 'd1', 'NeutronUnreachable')[0], 60_000, 'NeutronUnreachable Event');
      assert.equal(ev.type, 'Warning');
      assert.match(annotations('d1')[ERR] ?? '', /^NeutronUnreachable: Neutron API unreachable/);
    } finally {
      await startNeutronServer(neutron);
    }
    const d1 = await until(() => net('d1'), 120_000, 'd1 annotated after Neutron came back');
    assert.equal(typeof d1.vlan, 'number');
    await until(() => annotations('d1')[ERR] === undefined, 10_000, 'pod-network-error removed');
    const live = new Set(['n3', 'u1', 'd1', 'x1'].map((n) => uid(n)));
    const ports = await ourPorts();
    assert.equal(ports.length, 3, `exactly the ports of n3, u1 and d1: ${ports.map((p) => p.name).join(', ')}`);
    for (const p of ports) assert.ok(p.tags?.some((t) => live.has(t.slice('tessera-pod:'.length))));
  });

  it('Neutron failing between port create and trunk add: the port is retried to completion, or deleted with its pod', async () => {
    cutSubports = true;
    try {
      f.pod('default', 'h1', 'vm1');
      f.pod('default', 'h2', 'vm1');
      await until(() => events('Pod', 'h1', 'NeutronUnreachable')[0], 60_000, 'h1 Event');
      await until(async () => (await portsOf(uid('h2'))).length === 1, 30_000, 'h2 port created');
      const [h1port] = await until(async () => { const p = await portsOf(uid('h1')); return p.length === 1 && p; }, 30_000, 'h1 port');
      assert.ok(!(await api.getTrunk(trunk.id)).sub_ports.some((s) => s.port_id === h1port!.id), 'not a subport while Neutron fails');
      assert.equal(net('h1'), undefined);
      const h2 = uid('h2');
      f.remove('pod', 'default', 'h2');
      await until(async () => (await portsOf(h2)).length === 0, 30_000, 'h2\'s half-made port deleted with its pod');
    } finally {
      cutSubports = false;
    }
    const h1 = await until(() => net('h1'), 90_000, 'h1 annotated once trunk adds work');
    const ports = await portsOf(uid('h1'));
    assert.equal(ports.length, 1, 'the retries made no second port');
    assert.deepEqual((await api.getTrunk(trunk.id)).sub_ports.find((s) => s.port_id === ports[0]!.id)?.segmentation_id, h1.vlan);
  });

  it('OverQuota: a pod Event, no half-made port; with room again the pod gets its network', async () => {
    const used = (await api.listPorts({ project_id: api.projectId })).length;
    await api.setQuota(api.projectId, { port: used });
    try {
      f.pod('default', 'q1', 'bm1');
      const ev = await until(() => events('Pod', 'q1', 'NeutronQuotaExceeded')[0], 60_000, 'NeutronQuotaExceeded Event');
      assert.match(ev.message as string, /Quota exceeded for resources: \['port'\]/);
      assert.equal((await portsOf(uid('q1'))).length, 0);
    } finally {
      await api.setQuota(api.projectId, { port: 500 });
    }
    await until(() => net('q1'), 60_000, 'q1 annotated once the quota allows');
  });

  it('a Namespace\'s security groups go on its pods\' ports, and follow a change', async () => {
    const sg1 = await api.createSecurityGroup('pods-a');
    const sg2 = await api.createSecurityGroup('pods-b');
    f.create('ns', { metadata: { name: 'sec', annotations: { 'tessera.io/neutron-security-groups': sg1.id } } });
    f.pod('sec', 's1', 'bm1');
    await until(() => net('s1', 'sec'), 60_000, 's1 annotated');
    assert.deepEqual((await portsOf(uid('s1', 'sec')))[0]!.security_groups, [sg1.id]);
    f.patch('ns', undefined, 'sec', { metadata: { annotations: { 'tessera.io/neutron-security-groups': `${sg1.id},${sg2.id}` } } });
    await until(async () => (await portsOf(uid('s1', 'sec')))[0]!.security_groups.sort().join() === [sg1.id, sg2.id].sort().join(), 30_000, 'groups updated');
  });
});
