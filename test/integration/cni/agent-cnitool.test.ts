// tessera-cni against the REAL tessera-agent on a one-node lab (OVS netdev, OVN central, ovn-controller, API
// test server), through cnitool chained with tuning + portmap: ADD until ovn-installed, CHECK (passing and
// failing), DEL twice, DEL with an empty netns, GC, STATUS, and an ADD that fails and leaves nothing behind.
// The pod data path itself (traffic between pods, management port) is covered by the agent's and lab tests;
// here one ping to the pod's gateway shows that "ovn-installed" meant a working port.
import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hostVethName } from '../../../lib/cni-protocol.js';
import { startAgentNode, type AgentNode, type AgentPod } from '../../../testkit/agent-node.js';
import { cnitool, execShim, requireBuilt, sh, succeeds, tmpDir, type Cnitool } from '../../../testkit/cni.js';

const PREFIX = 'tcn-la-';
const args = (p: AgentPod): string => `K8S_POD_INFRA_CONTAINER_ID=${p.name}-sb;K8S_POD_UID=${p.uid};IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${p.name}`;

interface PrintedResult {
  cniVersion: string;
  interfaces: { name: string; mac?: string; sandbox?: string }[];
  ips: { address: string; gateway?: string; interface?: number }[];
}

describe('cni shim + real tessera-agent via cnitool (one-node lab, OVS netdev + OVN)', function () {
  this.timeout(120_000);
  const dir = tmpDir('tcn-agent-');
  const net = 'tcn-la-net';
  let node: AgentNode;
  let tool: Cnitool;
  const pods: Record<string, AgentPod> = {};
  const cid: Record<string, string> = {};
  const vsctl = (a: string[]): Promise<string> => node.lab.vsctl(node.nodeName, a);
  const ifaceIds = async (name: string): Promise<string> => vsctl(['--if-exists', 'get', 'Interface', name, 'external_ids']);

  before(async () => {
    requireBuilt();
    mkdirSync(dir, { recursive: true });
    node = await startAgentNode({ prefix: PREFIX, stateDir: join(dir, 'lab') });
    tool = cnitool(join(dir, 'net.d'));
    const plugins = (annotationTimeoutMs: number): object[] => [
      { type: 'tessera-cni', agentSocket: node.agentSocket, logFile: join(dir, 'cni.log'), annotationTimeoutMs, ovnInstalledTimeoutMs: 20_000, capabilities: { portMappings: true } },
      { type: 'tuning', sysctl: { 'net.ipv4.conf.eth0.accept_redirects': '0' } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ];
    tool.conflist(net, '1.0.0', plugins(10_000));
    tool.conflist(`${net}-short`, '1.0.0', plugins(1_000));
    for (const n of ['a', 'b', 'c']) pods[n] = await node.addPod(`cni-${n}`);
  });

  after(async () => {
    if (node) await node.stop(); // removes the lab's netns (incl. pods), daemons and cnitool cache entries
    rmSync(dir, { recursive: true, force: true });
  });

  it('STATUS: the agent is ready', async () => {
    const r = await execShim({ CNI_COMMAND: 'STATUS', CNI_PATH: '/opt/cni/bin' }, JSON.stringify({ cniVersion: '1.1.0', name: net, type: 'tessera-cni', agentSocket: node.agentSocket }));
    assert.equal(r.code, 0, r.stdout);
  });

  it('ADD returns the annotated address once the OVS port is ovn-installed, and portmap consumed it', async () => {
    const p = pods.a;
    const r = await tool.run('add', net, p.netnsPath, { hostNetns: node.nodeNetns, cniArgs: args(p), capArgs: { portMappings: [{ HostPort: 18082, ContainerPort: 80, Protocol: 'tcp', HostIP: '' }] } });
    assert.equal(r.code, 0, `${r.stdout} ${r.stderr}`);
    const res = JSON.parse(r.stdout) as PrintedResult;
    assert.equal(res.cniVersion, '1.0.0');
    cid.a = res.interfaces[0].name;
    assert.equal(res.interfaces[1].name, 'eth0');
    assert.equal(res.interfaces[1].sandbox, p.netnsPath);
    assert.deepEqual(res.ips, [{ address: `${p.ip}/24`, gateway: node.subnet.replace(/\.0\/24$/, '.1'), interface: 1 }]);
    const ids = await ifaceIds(res.interfaces[0].name);
    assert.match(ids, /"?ovn-installed"?="?true"?/);
    assert.match(ids, /iface-id="?default_cni-a"?/);
    assert.match(await sh('ip', ['netns', 'exec', node.nodeNetns, 'iptables-save', '-t', 'nat']), new RegExp(`--to-destination ${p.ip.replace(/\./g, '\\.')}:80`));
    await sh('ip', ['netns', 'exec', p.netns, 'ping', '-c', '1', '-W', '3', node.subnet.replace(/\.0\/24$/, '.1')]);
  });

  it('CHECK passes, then fails once the pod lost its address', async () => {
    const p = pods.a;
    const ok = await tool.run('check', net, p.netnsPath, { hostNetns: node.nodeNetns, cniArgs: args(p) });
    assert.equal(ok.code, 0, `${ok.stdout} ${ok.stderr}`);
    await sh('ip', ['-n', p.netns, 'addr', 'del', `${p.ip}/24`, 'dev', 'eth0']);
    const bad = await tool.run('check', net, p.netnsPath, { hostNetns: node.nodeNetns, cniArgs: args(p) });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout + bad.stderr, new RegExp(`CHECK eth0 in ${p.netnsPath}: address ${p.ip.replace(/\./g, "\\.")}/24 is missing`));
  });

  it('DEL removes the OVS port and the veth; a second DEL and one with an empty netns succeed', async () => {
    const p = pods.a;
    const host = cid.a;
    const r1 = await tool.run('del', net, p.netnsPath, { hostNetns: node.nodeNetns, cniArgs: args(p) });
    assert.equal(r1.code, 0, `${r1.stdout} ${r1.stderr}`);
    assert.equal(await ifaceIds(host), '');
    assert.ok(!(await succeeds('ip', ['-n', node.nodeNetns, 'link', 'show', host])));
    const r2 = await tool.run('del', net, p.netnsPath, { hostNetns: node.nodeNetns, cniArgs: args(p) });
    assert.equal(r2.code, 0, `${r2.stdout} ${r2.stderr}`);
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: net, type: 'tessera-cni', agentSocket: node.agentSocket });
    // containerd's last DEL: no netns, possibly for a sandbox whose port is long gone.
    const r3 = await execShim({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'gone-sandbox', CNI_NETNS: '', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', CNI_ARGS: args(p) }, conf);
    assert.equal(r3.code, 0, r3.stdout);
  });

  it('GC removes ports of attachments not in the valid list and keeps the valid ones', async () => {
    const hosts: Record<string, string> = {};
    const ids: Record<string, string> = {};
    for (const n of ['b', 'c']) {
      const p = pods[n];
      const r = await execShim({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: `${p.name}-sb`, CNI_NETNS: p.netnsPath, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', CNI_ARGS: args(p) },
        JSON.stringify({ cniVersion: '1.1.0', name: net, type: 'tessera-cni', agentSocket: node.agentSocket }));
      assert.equal(r.code, 0, r.stdout);
      hosts[n] = hostVethName(`${p.name}-sb`, 'eth0');
      ids[n] = `${p.name}-sb`;
      assert.notEqual(await ifaceIds(hosts[n]), '');
    }
    const gc = await execShim({ CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' },
      JSON.stringify({ cniVersion: '1.1.0', name: net, type: 'tessera-cni', agentSocket: node.agentSocket, 'cni.dev/valid-attachments': [{ containerID: ids.b, ifname: 'eth0' }] }));
    assert.equal(gc.code, 0, gc.stdout);
    assert.notEqual(await ifaceIds(hosts.b), '', 'valid attachment kept');
    assert.equal(await ifaceIds(hosts.c), '', 'stale attachment removed');
    assert.ok(!(await succeeds('ip', ['-n', node.nodeNetns, 'link', 'show', hosts.c])));
  });

  it('ADD for a pod the agent does not know fails with 11 after annotationTimeoutMs and leaves nothing behind', async () => {
    const ghost = await sh('ip', ['netns', 'add', `${PREFIX}ghost`]).then(() => `/var/run/netns/${PREFIX}ghost`);
    const before = (await vsctl(['list-ports', 'br-int'])).split('\n').sort();
    const r = await tool.run('add', `${net}-short`, ghost, { hostNetns: node.nodeNetns, cniArgs: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=ghost' });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /pod default\/ghost not found on node .* within 1000 ms/);
    assert.deepEqual((await vsctl(['list-ports', 'br-int'])).split('\n').sort(), before);
    assert.equal(await sh('ip', ['-n', `${PREFIX}ghost`, '-o', 'link', 'show']).then((o) => o.split('\n').length), 1, 'only lo in the pod netns');
  });
});
