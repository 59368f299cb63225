// Subnets of the default Vpc leaving the cluster through the gateways, and a ClusterIP Service inside a custom
// Vpc, on the lab with real pods and packets (every node a gateway, the external host on the underlay, which
// answers every connection with the source address it saw):
//  - natOutgoing: true: the external host sees a node's IP (the gateways' SNAT), and the answer comes back;
//  - natOutgoing: false: it sees the pod's own address; with a route to the Subnet via a node (as the external
//    network must have, README), the answer comes back through that node's gateway;
//  - natOutgoing on a custom Vpc: served without it, with a Warning Event;
//  - a Service whose endpoints are pods of one custom Vpc answers that Vpc's pods at its ClusterIP, and not the
//    default network's pods.
import assert from 'node:assert/strict';
import { startLab, teardownLab, type Lab, type LabPod } from '../../lab/cluster.js';
import { addLabGateway } from '../../lab/gateway.js';
import { subnetReady } from '../../lab/vpc.js';
import { run } from '../../lab/exec.js';
import { waitFor } from '../../lab/wait.js';
import { POD_SERVER_PORT, tcpExchange } from '../../lab/report.js';
import type { KubeObject } from '../../lab/kube.js';

const PREFIX = 'tvpe-';

/** What the external host says it saw ("external-host sees <ip>"), or the failure. */
async function seenBy(from: LabPod, ip: string, port: number): Promise<string> {
  try {
    const out = (await run('nc', ['-w', '3', ip, String(port)], { netns: from.netns, input: '', timeoutMs: 8_000 })).trim();
    return out || 'failed: no answer';
  } catch (err) {
    return `failed: ${(err as Error).message.split('\n')[0]}`;
  }
}

/** The external host's answer, retried while flows and routes settle. */
async function seenSoon(from: LabPod, ip: string, port: number): Promise<string> {
  let last = '';
  await waitFor(`${from.name} -> external host`, async () => !(last = await seenBy(from, ip, port)).startsWith('failed'), 20_000, 500).catch(() => undefined);
  return last;
}

describe('Vpc and Subnet egress and Services on the lab (gateways, external host)', function () {
  this.timeout(600_000);
  let lab: Lab;
  let ext: { netns: string; ip: string; port: number };
  const kube = () => lab.kube!;
  const create = (path: string, obj: Record<string, unknown>) => kube().create(path, obj as KubeObject);
  const namespace = (name: string) => create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  let s1: LabPod;
  const subnet = (name: string, spec: Record<string, unknown>) => create('/apis/kubeovn.io/v1/subnets', { apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name }, spec });

  before(async () => {
    await teardownLab({ prefix: PREFIX });
    lab = await startLab({ prefix: PREFIX, nodes: 2, gateway: false, policies: [] });
    const gw = await addLabGateway(lab);
    ext = { netns: gw.extNetns, ip: gw.extIp, port: gw.extPort };
  });
  after(async () => {
    if (process.env.KEEP_TVPE === '1') return;
    await teardownLab({ prefix: PREFIX });
  });

  it('natOutgoing: true leaves SNATed to a node IP; natOutgoing: false with the pod address, answered through a route to a node', async () => {
    for (const ns of ['nat-on', 'nat-off']) await namespace(ns);
    await subnet('nat-on', { cidrBlock: '10.70.0.0/24', natOutgoing: true, namespaces: ['nat-on'] });
    await subnet('nat-off', { cidrBlock: '10.71.0.0/24', natOutgoing: false, namespaces: ['nat-off'] });
    await subnetReady(lab, 'nat-on');
    await subnetReady(lab, 'nat-off');
    const nodeIps = lab.file.nodes.map((n) => n.ip);
    const on = [await lab.addPod({ namespace: 'nat-on', name: 'on1', node: 'node1' }), await lab.addPod({ namespace: 'nat-on', name: 'on2', node: 'node2' })];
    const off = await lab.addPod({ namespace: 'nat-off', name: 'off1', node: 'node2' });
    assert.match(on[0].ip, /^10\.70\.0\./);
    assert.match(off.ip, /^10\.71\.0\./);
    for (const p of on) {
      // Several connections: the default Vpc spreads a Subnet's flows over every gateway (ECMP).
      for (let i = 0; i < 4; i++) {
        const seen = await seenSoon(p, ext.ip, ext.port);
        const ip = seen.replace('external-host sees ', '');
        assert.ok(nodeIps.includes(ip), `${p.name} (${p.ip}) leaves SNATed to a node IP, the external host saw ${ip}`);
      }
    }
    for (const n of lab.file.nodes) {
      const nats = await lab.nbctl(['lr-nat-list', `GR_${n.name}`]);
      process.stdout.write(`      $ ovn-nbctl lr-nat-list GR_${n.name}\n${nats.replace(/^/gm, '      ')}\n`);
      assert.match(nats, new RegExp(`snat\\s+${n.ip.replace(/\./g, '\\.')}\\s+10\\.70\\.0\\.0/24`), `GR_${n.name} SNATs nat-on`);
      assert.doesNotMatch(nats, /10\.71\.0\.0/, `GR_${n.name} does not SNAT nat-off`);
    }
    // The pod address goes out as it is; the external network routes it back to a node (node1, whatever gateway
    // the connection left through), whose bridge hands it to its gateway router.
    await run('ip', ['-n', ext.netns, 'route', 'replace', '10.71.0.0/24', 'via', nodeIps[0]!]);
    for (let i = 0; i < 4; i++) {
      const seen = await seenSoon(off, ext.ip, ext.port);
      assert.equal(seen, `external-host sees ${off.ip}`, 'natOutgoing: false keeps the pod address');
    }
    await run('ip', ['-n', ext.netns, 'route', 'del', '10.71.0.0/24']);
    assert.match(await seenBy(off, ext.ip, ext.port), /^failed/, 'without the route back, no answer reaches the pod');
    // ovn-default pods still leave SNATed to their own node's IP.
    const d = lab.file.pods.find((p) => p.namespace === 'default' && p.node === 'node2')!;
    assert.equal(await seenBy(d, ext.ip, ext.port), `external-host sees ${nodeIps[1]}`);
  });

  it('natOutgoing on a custom Vpc is served without it, with a Warning Event', async () => {
    await create('/apis/kubeovn.io/v1/vpcs', { apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name: 'vpc-s' }, spec: {} });
    await namespace('vpc-s');
    await subnet('subnet-s', { vpc: 'vpc-s', cidrBlock: '10.75.0.0/24', natOutgoing: true, namespaces: ['vpc-s'] });
    await subnetReady(lab, 'subnet-s');
    type Ev = KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } };
    const events = async () => (await kube().list<Ev>('/api/v1/namespaces/default/events')).items;
    const ignored = async () => (await events()).find((e) => e.involvedObject?.name === 'subnet-s' && e.reason === 'NatOutgoingIgnored');
    await waitFor('NatOutgoingIgnored Event', async () => (await ignored()) !== undefined, 15_000);
    assert.match((await ignored())?.message ?? '', /only Subnets of Vpc ovn-cluster/);
    s1 = await lab.addPod({ namespace: 'vpc-s', name: 's1', node: 'node1' });
    assert.match(await seenBy(s1, ext.ip, ext.port), /^failed/, 'a custom Vpc has no way out');
  });

  it('a ClusterIP Service with all endpoints in a custom Vpc answers that Vpc, not the default network', async () => {
    const s2 = await lab.addPod({ namespace: 'vpc-s', name: 's2', node: 'node2', labels: { app: 'inner' } });
    const s3 = await lab.addPod({ namespace: 'vpc-s', name: 's3', node: 'node1', labels: { app: 'inner' } });
    const client = s1;
    const vip = '10.96.0.77';
    await create('/api/v1/namespaces/vpc-s/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'inner', namespace: 'vpc-s' },
      spec: { type: 'ClusterIP', clusterIP: vip, clusterIPs: [vip], selector: { app: 'inner' }, ports: [{ name: 'tcp', protocol: 'TCP', port: 80, targetPort: POD_SERVER_PORT }] } });
    await create('/apis/discovery.k8s.io/v1/namespaces/vpc-s/endpointslices', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'inner-1', namespace: 'vpc-s', labels: { 'kubernetes.io/service-name': 'inner' } }, addressType: 'IPv4',
      endpoints: [s2, s3].map((b) => ({ addresses: [b.ip], conditions: { ready: true }, nodeName: b.node, targetRef: { kind: 'Pod', namespace: b.namespace, name: b.name } })),
      ports: [{ name: 'tcp', protocol: 'TCP', port: POD_SERVER_PORT }] });
    const servers = new Set<string>();
    await waitFor('inner answers from vpc-s', async () => {
      const r = await tcpExchange(client.netns, vip, 80, 3);
      if (r.ok && r.server) servers.add(r.server);
      return servers.size === 2;
    }, 30_000, 200);
    assert.deepEqual([...servers].sort(), ['vpc-s/s2', 'vpc-s/s3']);
    const ls = await lab.nbctl(['ls-lb-list', 'subnet-s']);
    assert.match(ls, /10\.96\.0\.77:80/, 'the LB hangs on the Vpc Subnet switch');
    const d = lab.file.pods.find((p) => p.namespace === 'default')!;
    assert.equal((await tcpExchange(d.netns, vip, 80, 2)).ok, false, 'the default network has no such Service');
  });
});
