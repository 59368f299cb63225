// tessera-agent in nested mode against real OVS/OVN: the hypervisor n1 runs OVS + ovn-controller; the "VM" NIC is
// one end of a veth whose other end is on br-int with iface-id = the VM's switch port. The nested agent (node vm1,
// --nested-parent-iface) wires pods as VLAN links of that NIC; NB child ports (parent_name + tag) are scripted as the
// watcher writes them, and so is tessera.io/port-up once NB reports the port up. Real packets cross OVN.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { run, succeeds } from '../../../lab/exec.js';
import { podPath, nodePath, serviceAccountTokenFile, type KubeObject } from '../../../lab/kube.js';
import { addNetns } from '../../../lab/netns.js';
import { waitFor } from '../../../lab/wait.js';
import { hostVethName } from '../../../lib/cni-protocol.js';
import { NODE_SUBNET_ANNOTATION, POD_NETWORKS_ANNOTATION, POD_PORT_UP_ANNOTATION, type PodNetworks } from '../../../lib/kube/annotations.js';
import { macFromIPv4, podPort } from '../../../lib/ovn/names.js';
import { scriptNodeSwitch } from '../../fixtures/nb-script.js';
import { AgentFixture, SUBNET, GATEWAY, type TestPod } from './fixture.js';
import { added, ok } from './answers.js';

const VM = 'vm1';
const VM_SUBNET = '10.244.2.0/24';
const VM_GW = '10.244.2.1';
const VM_PORT = 'vm1-nic';
const PARENT = 'vm1eth0';

class NestedFixture extends AgentFixture {
  override agentArgs(): string[] {
    return [
      '--node-name', VM, '--kube-api', this.api.url, '--kube-token-file', serviceAccountTokenFile(this.api, 'tessera-agent'),
      '--ovs-db', 'unix:/nonexistent/db.sock', '--cni-socket', this.cniSocket, '--health-listen', `127.0.0.1:${this.healthPort}`,
      '--log-file', join(this.agentDir, 'agent-winston.log'), '--nested-parent-iface', PARENT,
    ];
  }
}


describe('tessera-agent nested mode (integration, real OVS/OVN, VLAN links)', function () {
  this.timeout(120_000);
  const f = new NestedFixture();
  let seq = 0;

  /** A pod on vm1 with its netns, its child LSP (parent vm1-nic, tag) and, unless `net` says otherwise, its annotation. */
  async function nestedPod(name: string, vlan: number, net: Partial<PodNetworks['default']> | null = {}): Promise<TestPod> {
    const n = ++seq;
    const ip = `10.244.2.${10 + n}`;
    const netns = `tag-${f.id}-v${n}`;
    await addNetns(netns);
    const created = await f.kube.create<KubeObject>('/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: VM, containers: [{ name: 'c', image: 'x' }] },
    });
    const containerId = randomBytes(32).toString('hex');
    const p: TestPod = { namespace: 'default', name, uid: created.metadata.uid ?? '', ip, mac: macFromIPv4(ip), netns, netnsPath: `/var/run/netns/${netns}`, containerId, hostVeth: '' };
    const lsp = podPort('default', name);
    await f.nbctl(['lsp-add', VM, lsp, VM_PORT, String(vlan), '--', 'lsp-set-addresses', lsp, `${p.mac} ${ip}`, '--', 'lsp-set-port-security', lsp, `${p.mac} ${ip}`]);
    if (net !== null) {
      const nets = { default: { ip_addresses: [`${ip}/24`], mac_address: p.mac, gateway_ips: [VM_GW], routes: [], logical_switch: VM, vlan, ...net } };
      await f.kube.patch(podPath('default', name), { metadata: { annotations: { [POD_NETWORKS_ANNOTATION]: JSON.stringify(nets) } } });
    }
    return p;
  }

  /** The watcher's port-up: once NB says the LSP is up. */
  async function reportUp(p: TestPod): Promise<void> {
    const lsp = podPort(p.namespace, p.name);
    await waitFor(`NB ${lsp} up`, async () => (await f.nbctl(['--if-exists', 'get', 'Logical_Switch_Port', lsp, 'up'])).trim() === 'true', 30_000);
    await f.kube.patch(podPath(p.namespace, p.name), { metadata: { annotations: { [POD_PORT_UP_ANNOTATION]: lsp } } });
  }

  const link = async (p: TestPod): Promise<string> => run('ip', ['-n', p.netns, '-d', 'link', 'show', 'eth0']);
  /** The pod's VLAN id as wired: a kernel VLAN link's id, or (kernels without 802.1Q) the VM end's alias. */
  async function wiredVlan(p: TestPod): Promise<number | undefined> {
    const l = await link(p);
    const m = /vlan protocol 802\.1Q id (\d+)/.exec(l);
    if (m) return Number(m[1]);
    const host = await run('ip', ['-n', f.nodeNs, '-d', 'link', 'show', hostVethName(p.containerId, 'eth0')]).catch(() => '');
    const a = new RegExp(`alias tessera-vlan (\\d+) ${PARENT}`).exec(host);
    return a && /veth/.test(l) ? Number(a[1]) : undefined;
  }

  before(async function () {
    this.timeout(180_000);
    await f.start();
    await f.kube.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: VM } });
    // The hypervisor's switch holds the VM's port (a foreign row, as Nova/Neutron's would be); vm1's switch its pods.
    await scriptNodeSwitch(f.central, 'n1', SUBNET, GATEWAY);
    await scriptNodeSwitch(f.central, VM, VM_SUBNET, VM_GW);
    await f.nbctl(['lsp-add', 'n1', VM_PORT, '--', 'lsp-set-addresses', VM_PORT, '0a:58:0a:f4:01:32 10.244.1.50']);
    await run('ip', ['-n', f.nodeNs, 'link', 'add', PARENT, 'type', 'veth', 'peer', 'name', 'vm1-br']);
    for (const dev of [PARENT, 'vm1-br']) {
      await run('ip', ['-n', f.nodeNs, 'link', 'set', dev, 'up']);
      await run('ip', ['netns', 'exec', f.nodeNs, 'ethtool', '-K', dev, 'tx', 'off']);
    }
    await f.vsctl(['add-port', 'br-int', 'vm1-br', '--', 'set', 'Interface', 'vm1-br', `external_ids:iface-id=${VM_PORT}`]);
    await f.kube.patch(nodePath(VM), { metadata: { annotations: { [NODE_SUBNET_ANNOTATION]: VM_SUBNET } } });
    f.startAgent();
    await waitFor('nested agent ready', async () => (await f.health('/readyz')) === 200, 30_000);
  });

  after(async () => {
    await f.teardown();
  });

  it('wires two pods as VLAN links of the parent; they reach each other and the gateway through OVN', async () => {
    const a = await nestedPod('na', 101);
    const b = await nestedPod('nb', 102);
    await Promise.all([reportUp(a), reportUp(b)]);
    const ra = added(await f.request(f.addRequest(a)));
    ok(await f.request(f.addRequest(b)));
    assert.equal(ra.interfaces?.[0]?.name, 'eth0');
    assert.equal(ra.interfaces?.[0]?.mac, a.mac);
    const la = await link(a);
    assert.equal(await wiredVlan(a), 101);
    assert.match(la, new RegExp(`link/ether ${a.mac}`));
    assert.equal(await wiredVlan(b), 102);
    // MTU is the parent's (1500 on a fresh veth).
    assert.match(la, /mtu 1500/);
    await f.inNs(a.netns, 'ping', ['-c', '2', '-W', '3', b.ip]);
    await f.inNs(b.netns, 'ping', ['-c', '2', '-W', '3', VM_GW]);
    ok(await f.request({ ...f.addRequest(a), command: 'CHECK', prevResult: ra }));
  });

  it('refuses a VLAN id outside 1..4094 or an address outside the Subnet, with code 100 naming the value', async () => {
    const cases: [number, Partial<PodNetworks['default']>][] = [[0, { vlan: 0 }], [1, { vlan: 4095 }], [2, { vlan: '7' as unknown as number }], [3, { ip_addresses: ['10.244.9.5/24'] }]];
    for (const [i, bad] of cases.entries()) {
      const p = await nestedPod(`bad${i}`, 200 + bad[0], bad[1]);
      const r = await f.request(f.addRequest(p, { config: { annotationTimeoutMs: 1500, ovnInstalledTimeoutMs: 5000 } }));
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.code, 100, JSON.stringify(r));
      assert.match(!r.ok ? r.msg : '', 'vlan' in bad[1] ? /vlan/ : /outside/);
      assert.equal(await succeeds('ip', ['-n', p.netns, 'link', 'show', 'eth0']), false);
    }
  });

  it('waits for port-up naming this port; without it answers 11 and leaves no link', async () => {
    const p = await nestedPod('noup', 150);
    // A value naming another port does not count.
    await f.kube.patch(podPath('default', 'noup'), { metadata: { annotations: { [POD_PORT_UP_ANNOTATION]: 'default_other' } } });
    const r = await f.request(f.addRequest(p, { config: { annotationTimeoutMs: 3000, ovnInstalledTimeoutMs: 1500 } }));
    assert.equal(!r.ok && r.code, 11, JSON.stringify(r));
    assert.match(!r.ok ? r.msg : '', /did not report port default_noup/);
    assert.equal(await succeeds('ip', ['-n', p.netns, 'link', 'show', 'eth0']), false);
    // Once reported up, the same ADD succeeds.
    await reportUp(p);
    ok(await f.request(f.addRequest(p)));
    await f.inNs(p.netns, 'ping', ['-c', '1', '-W', '3', VM_GW]);
  });

  it('DEL removes the link, again without error, and with the netns gone', async () => {
    const p = await nestedPod('del', 160);
    await reportUp(p);
    const res = added(await f.request(f.addRequest(p)));
    ok(await f.request({ ...f.addRequest(p), command: 'DEL' }));
    assert.equal(await succeeds('ip', ['-n', p.netns, 'link', 'show', 'eth0']), false);
    assert.equal(await succeeds('ip', ['-n', f.nodeNs, 'link', 'show', hostVethName(p.containerId, 'eth0')]), false);
    ok(await f.request({ ...f.addRequest(p), command: 'DEL' }));
    const c = await f.request({ ...f.addRequest(p), command: 'CHECK', prevResult: res });
    assert.equal(!c.ok && c.code, 100);
    ok(await f.request({ ...f.addRequest(p), command: 'DEL', netns: '/var/run/netns/does-not-exist' }));
    // The VLAN id is free on the parent again: a new ADD with it works.
    ok(await f.request(f.addRequest(p)));
  });
});
