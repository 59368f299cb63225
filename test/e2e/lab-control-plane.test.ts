// The control plane's exposure in a lab with a gateway (pods have a path to the central host through GR SNAT):
// NB and SB serve only ssl: with client certificates, the daemons work over it, and the watcher's protected-endpoint
// ACL keeps pods off the NB/SB ports (but not off the API server on the same host) unless a NetworkPolicy allows it;
// its --protected-node-port term keeps them off the agents' health port (bound on 0.0.0.0) on every node IP and
// management IP, while the nodes themselves still reach it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startLab, teardownLab, type Lab } from '../../lab/cluster.js';
import type { LabFile } from '../../lab/lab-file.js';
import { ovsTlsArgs } from '../../lab/pki.js';
import { AGENT_HEALTH_PORT, httpOk } from '../../lab/tessera.js';
import { addressAt, formatIP, parseCIDR } from '../../lib/ipnet/index.js';
import { macFromIPv4 } from '../../lib/ovn/names.js';

const exec = promisify(execFile);
const PREFIX = 'tcpl-';
const CENTRAL = '192.168.77.2';
const POLICIES = '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies';

/** Whether a TCP connection from `netns` to ip:port completes within 2 s (nc -z). */
async function connects(netns: string, ip: string, port: number): Promise<boolean> {
  try {
    await exec('ip', ['netns', 'exec', netns, 'nc', '-z', '-w', '2', ip, String(port)], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

async function eventually(probe: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('lab control plane: ssl and protected endpoints (e2e, prefix tcpl-)', function () {
  this.timeout(180_000);
  let lab: Lab;
  let f: LabFile;

  before(async () => {
    lab = await startLab({ prefix: PREFIX, nodes: 2, gateway: true });
    f = lab.file;
  });
  after(async () => {
    await teardownLab({ prefix: PREFIX });
  });

  it('serves NB and SB only over ssl, to clients with a certificate of the lab CA', async () => {
    assert.ok(f.pki, 'lab.json names the PKI');
    assert.deepEqual([f.nb.remotes, f.sb.remotes], [[`ssl:${CENTRAL}:6641`], [`ssl:${CENTRAL}:6642`]]);
    const node1 = f.nodes[0]!.netns;
    const nbctl = (args: string[]) => exec('ip', ['netns', 'exec', node1, 'ovn-nbctl', '--timeout=5', ...args], { timeout: 15_000 });
    const ok = await nbctl([`--db=ssl:${CENTRAL}:6641`, ...ovsTlsArgs(f.pki.roles.node), '--bare', '--columns=name', 'list', 'Logical_Switch']);
    assert.match(ok.stdout, /node1/);
    // NB serves ssl: only, so a plaintext write to its port does not get through.
    await assert.rejects(nbctl([`--db=tcp:${CENTRAL}:6641`, 'set', 'NB_Global', '.', 'external_ids:x=y']));
    assert.equal((await lab.nbctl(['get', 'NB_Global', '.', 'external_ids'])).includes('x='), false);
    // ovn-controller on every node reached SB over ssl (its chassis registered), the agents and the gateway are ready.
    const chassis = (await lab.sbctl(['--bare', '--columns=name', 'list', 'Chassis'])).split('\n').filter(Boolean).sort();
    assert.deepEqual(chassis, ['node1', 'node2']);
    assert.equal(await lab.vsctl('node1', ['get', 'Open_vSwitch', '.', 'external_ids:ovn-remote']), `"ssl:${CENTRAL}:6642"`);
    // SB sees two ssl sessions from every node: ovn-controller and the agent's patch flow watchdog.
    const sbPeers = async (): Promise<string[]> => (await exec('ip', ['netns', 'exec', f.central.netns, 'ss', '-Htn', 'state', 'established', `( sport = :6642 )`])).stdout
      .split('\n').map((l) => l.trim().split(/\s+/).pop()?.replace(/:\d+$/, '') ?? '').filter(Boolean);
    for (const n of f.nodes) {
      await eventually(async () => (await sbPeers()).filter((ip) => ip === n.ip).length >= 2, `two SB sessions from ${n.name} (${n.ip})`);
    }
  });

  /** The MAC of the cluster router's port into a node switch (.1 of the node subnet), left out of the drop. */
  const routerMac = (node: string): string => macFromIPv4(formatIP(addressAt(parseCIDR(f.nodes.find((n) => n.name === node)!.subnet), 1)));

  it('puts the protected-endpoints drop on every node switch', async () => {
    const out = await lab.nbctl(['--format=json', '--columns=_uuid,priority,direction,action,match,options', 'find', 'ACL', 'external_ids:tessera.io/object=protected-endpoints']);
    const rows = (JSON.parse(out) as { data: unknown[][] }).data;
    assert.equal(rows.length, 2, 'one ACL per node switch');
    for (const sw of ['node1', 'node2']) {
      const acls = await lab.nbctl(['--bare', 'get', 'Logical_Switch', sw, 'acls']);
      const r = rows.find((row) => acls.includes((row[0] as [string, string])[1]));
      assert.ok(r, `${sw} carries one of them`);
      assert.deepEqual(r.slice(1, 5), [990, 'from-lport', 'drop', `eth.src != ${routerMac(sw)} && tcp && ((ip4.dst == ${CENTRAL} && tcp.dst == {6641, 6642})`
        + ` || (ip4.dst == {$tessera_node_ips, $tessera_node_mgmt} && tcp.dst == ${AGENT_HEALTH_PORT}))`]);
      assert.deepEqual(r[5], ['map', [['apply-after-lb', 'true']]]);
    }
  });

  it('keeps pods off the NB and SB ports while their node and the API server port stay reachable', async () => {
    // Pods of the gateway node egress through its GR; the lab's other nodes have no gateway, hence no path at all.
    const withPath = f.pods.filter((p) => p.node === f.gateway?.node);
    assert.ok(withPath.length >= 2);
    for (const p of withPath) {
      // The path to the central host exists (the API test server on the same IP answers) ...
      await eventually(() => connects(p.netns, CENTRAL, 6443), `${p.name} reaches ${CENTRAL}:6443`);
      // ... but not to its OVSDB ports.
      for (const port of [6641, 6642]) assert.equal(await connects(p.netns, CENTRAL, port), false, `${p.name} must not reach ${CENTRAL}:${port}`);
    }
    for (const n of f.nodes) for (const port of [6641, 6642]) assert.ok(await connects(n.netns, CENTRAL, port), `${n.name} reaches ${CENTRAL}:${port}`);
  });

  it('lets a pod through where a NetworkPolicy egress rule allows the endpoint, and only there', async () => {
    const client = f.pods.find((p) => p.name === 'client')!;
    await lab.kube!.create(POLICIES, {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'client-to-nb', namespace: 'default' },
      spec: { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: `${CENTRAL}/32` } }], ports: [{ protocol: 'TCP', port: 6641 }] }] },
    });
    await eventually(() => connects(client.netns, CENTRAL, 6641), 'the allowed pod reaches NB');
    assert.equal(await connects(client.netns, CENTRAL, 6642), false, 'SB stays closed to it');
    const other = f.pods.find((p) => p.name !== 'client' && p.node === client.node)!;
    assert.equal(await connects(other.netns, CENTRAL, 6641), false, `${other.name} is not selected by the policy`);
    await lab.kube!.delete(`${POLICIES}/client-to-nb`);
    await eventually(async () => !(await connects(client.netns, CENTRAL, 6641)), 'NB closed again once the policy is gone');
  });

  const mgmtIp = (subnet: string): string => formatIP(addressAt(parseCIDR(subnet), 2));

  it('keeps pods off the agents\' health port on every node IP and management IP, while the nodes reach it', async () => {
    const nodeIps = (await lab.nbctl(['--bare', '--columns=addresses', 'find', 'Address_Set', 'name=tessera_node_ips'])).trim().split(/\s+/).sort();
    assert.deepEqual(nodeIps, f.nodes.map((n) => n.ip).sort(), 'the node-IP address set holds the nodes\' InternalIPs');
    for (const n of f.nodes) {
      // The listener is up on both addresses (the node's own netns, which does not cross OVN).
      assert.ok(await httpOk(n.netns, AGENT_HEALTH_PORT, '/healthz', n.ip), `${n.name} GETs /healthz on ${n.ip}`);
      assert.ok(await httpOk(n.netns, AGENT_HEALTH_PORT, '/healthz', mgmtIp(n.subnet)), `${n.name} GETs /healthz on its management IP`);
    }
    for (const p of f.pods) {
      const own = f.nodes.find((n) => n.name === p.node)!;
      // A path exists (the egress matrix's host listener on the node answers) ...
      await eventually(() => connects(p.netns, own.ip, f.egress!.hostPort), `${p.name} reaches ${own.ip}:${f.egress!.hostPort}`);
      // ... but not to the agents' health port, on any node or management IP.
      for (const n of f.nodes) {
        for (const ip of [n.ip, mgmtIp(n.subnet)]) {
          assert.equal(await connects(p.netns, ip, AGENT_HEALTH_PORT), false, `${p.name} (on ${p.node}) must not reach ${n.name}'s ${ip}:${AGENT_HEALTH_PORT}`);
        }
      }
    }
  });

  it('lets a pod reach a node\'s health port where a NetworkPolicy egress rule allows it, and only that pod', async () => {
    const node1 = f.nodes[0]!;
    const client = f.pods.find((p) => p.name === 'client')!;
    const selected = f.pods.filter((p) => p.labels?.role === 'client');
    await lab.kube!.create(POLICIES, {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'client-to-agent', namespace: 'default' },
      spec: { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: `${node1.ip}/32` } }], ports: [{ protocol: 'TCP', port: AGENT_HEALTH_PORT }] }] },
    });
    try {
      for (const p of selected) await eventually(() => connects(p.netns, node1.ip, AGENT_HEALTH_PORT), `${p.name} (selected) reaches ${node1.ip}:${AGENT_HEALTH_PORT}`);
      assert.equal(await connects(client.netns, mgmtIp(node1.subnet), AGENT_HEALTH_PORT), false, 'the management IP is not in the policy');
      for (const p of f.pods.filter((q) => !selected.includes(q))) {
        assert.equal(await connects(p.netns, node1.ip, AGENT_HEALTH_PORT), false, `${p.name} is not selected by the policy`);
      }
    } finally {
      await lab.kube!.delete(`${POLICIES}/client-to-agent`);
    }
    await eventually(async () => !(await connects(client.netns, node1.ip, AGENT_HEALTH_PORT)), 'closed again once the policy is gone');
  });
});
