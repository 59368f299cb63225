// kubeovn.io Vpc and Subnet on the lab (real watcher, agents, cnitool → tessera-cni, real packets): two custom
// Vpcs with overlapping Subnets (lab/vpc.ts: inside a Vpc everything answers across nodes, nothing crosses Vpcs
// or to/from the default network), excludeIps, static and policy routes (a reroute through a pod next hop),
// a private Subnet with allowSubnets, Namespace annotation binding, the seed's net2 manifest against a custom
// Vpc, the kubectl listings, and the deletion finalizer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { startLab, teardownLab, type Lab, type LabPod } from '../../lab/cluster.js';
import { vpcLabOf, subnetReady, formatVpcMatrix, vpcReport, type VpcLab } from '../../lab/vpc.js';
import { kubectlGet } from '../../lab/kube-get.js';
import { readLabFile } from '../../lab/lab-file.js';
import { run } from '../../lab/exec.js';
import { waitFor } from '../../lab/wait.js';
import { POD_SERVER_PORT, tcpExchange } from '../../lab/report.js';
import type { KubeObject } from '../../lab/kube.js';

const PREFIX = 'tvpc-';
const ip4 = (s: string): number => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);

async function pings(from: LabPod, ip: string, deadlineS = 4): Promise<boolean> {
  try {
    await run('ping', ['-n', '-q', '-c', '1', '-w', String(deadlineS), ip], { netns: from.netns, timeoutMs: (deadlineS + 3) * 1000 });
    return true;
  } catch {
    return false;
  }
}

describe('Vpc and Subnet on the lab (real pods and packets)', function () {
  this.timeout(600_000);
  let lab: Lab;
  let vl: VpcLab;
  const kube = () => lab.kube!;
  const subnet = (name: string, spec: Record<string, unknown>) => kube().create('/apis/kubeovn.io/v1/subnets', { apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name }, spec } as KubeObject);
  const namespace = (name: string, annotations: Record<string, string> = {}) => kube().create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations } } as KubeObject);

  before(async () => {
    await teardownLab({ prefix: PREFIX });
    lab = await startLab({ prefix: PREFIX, nodes: 2, gateway: false, policies: [], vpc: true });
    vl = vpcLabOf(lab);
  });
  after(async () => {
    if (process.env.KEEP_TVPC === '1') return;
    await teardownLab({ prefix: PREFIX });
  });

  it('two Vpcs with overlapping Subnets: reachable inside each across nodes, isolated from each other and from the default network', async () => {
    // lab.check() is what make lab and make lab-status run: the default network's checks and the vpcs step's.
    const all = await lab.check();
    for (const c of all) assert.ok(c.ok, `${c.from} -> ${c.to} (${c.target}): ${c.detail}`);
    const vpcPods = new Set(Object.values(vl.pods).flat().map((p) => `${p.namespace}/${p.name}`));
    const checks = all.filter((c) => vpcPods.has(c.from) || vpcPods.has(c.to));
    // Per Vpc pod: ping and TCP to its Vpc peer, one denied probe to each pod of the other Vpc, to and from default.
    assert.equal(checks.length, 4 * (2 + 2 + 2));
    assert.deepEqual(readLabFile(lab.labFilePath).vpcs?.map((v) => v.pods.length), [2, 2], 'lab.json lists the Vpc pods for make lab-status');
    const d = lab.file.pods.find((p) => p.namespace === 'default')!;
    process.stdout.write(formatVpcMatrix(vl, checks, `${d.namespace}/${d.name}`).replace(/^/gm, '      ') + '\n');
    for (const c of checks) assert.ok(c.ok, `${c.from} -> ${c.to} (${c.target}): ${c.detail}`);
    // What `make lab LAB_ARGS=--vpc` prints after the lab's checks: the listings and the isolation matrix.
    const report = await vpcReport(lab.file, lab.kube!, all);
    assert.match(report, /\$ kubectl get vpc\nNAME\s+STANDBY\s+SUBNETS\n/);
    assert.match(report, /Vpc isolation matrix/);
    assert.match(report, new RegExp(`all ${checks.length} Vpc checks as expected`));
    const [a, b] = [vl.pods['vpc-a'], vl.pods['vpc-b']];
    assert.deepEqual([a.length, b.length], [2, 2]);
    assert.notEqual(a[0].node, a[1].node);
    // Both Subnets are 10.50.0.0/24; their excludeIps keep vpc-a below .100 and vpc-b at .100 and above.
    for (const p of a) assert.ok(ip4(p.ip) >= ip4('10.50.0.2') && ip4(p.ip) < ip4('10.50.0.100'), `${p.name} ${p.ip}`);
    for (const p of b) assert.ok(ip4(p.ip) >= ip4('10.50.0.100'), `${p.name} ${p.ip}`);
    assert.ok(checks.some((c) => c.kind === 'tcp' && c.ok) && checks.some((c) => c.kind === 'policy' && c.ok));
  });

  it("a third Vpc overlapping vpc-a: a pod with vpc-a1's address on vpc-a1's node is wired and both work", async () => {
    const [a1, a2] = vl.pods['vpc-a'];
    await kube().create('/apis/kubeovn.io/v1/vpcs', { apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name: 'vpc-c' }, spec: {} } as KubeObject);
    await namespace('vpc-c');
    await subnet('subnet-c', { vpc: 'vpc-c', cidrBlock: '10.50.0.0/24', namespaces: ['vpc-c'] });
    await subnetReady(lab, 'subnet-c');
    const c1 = await lab.addPod({ namespace: 'vpc-c', name: 'c1', node: a1.node, annotations: { 'ovn.kubernetes.io/ip_address': a1.ip } });
    const c2 = await lab.addPod({ namespace: 'vpc-c', name: 'c2', node: a2.node });
    assert.equal(c1.ip, a1.ip, 'c1 has a1\'s address, on the same node');
    const sw = (p: LabPod) => lab.vsctl(p.node, ['get', 'Interface', p.hostIface, 'external_ids:"tessera.io/logical-switch"']);
    assert.deepEqual([(await sw(c1)).replaceAll('"', ''), (await sw(a1)).replaceAll('"', '')], ['subnet-c', 'subnet-a'], 'the agent records the pod\'s switch on its OVS Interface');
    for (const [from, to] of [[c1, c2], [c2, c1], [a1, a2], [a2, a1]] as const) {
      assert.ok(await pings(from, to.ip), `${from.name} -> ${to.name} ping`);
      const t = await tcpExchange(from.netns, to.ip, POD_SERVER_PORT);
      assert.ok(t.ok, `${from.name} -> ${to.name} TCP: ${t.detail}`);
      assert.equal(t.server, `${to.namespace}/${to.name}`, `${from.name} -> ${to.ip} answered by ${to.name}`);
    }
    await lab.deletePod('vpc-c', 'c1');
    await lab.deletePod('vpc-c', 'c2');
    await kube().delete('/apis/kubeovn.io/v1/subnets/subnet-c');
    await waitFor('subnet-c gone', async () => (await kube().get('/apis/kubeovn.io/v1/subnets/subnet-c').catch(() => undefined)) === undefined, 20_000);
    await kube().delete('/apis/kubeovn.io/v1/vpcs/vpc-c');
    await kube().delete('/api/v1/namespaces/vpc-c');
    assert.ok((await tcpExchange(a1.netns, a2.ip, POD_SERVER_PORT)).ok, 'a1 -> a2 after vpc-c is gone');
  });

  it('static route and policy route: a reroute through a pod acting as next hop', async () => {
    const [a1, a2] = vl.pods['vpc-a'];
    await namespace('vpc-a2');
    await subnet('subnet-a2', { vpc: 'vpc-a', cidrBlock: '10.51.0.0/24', namespaces: ['vpc-a2'] });
    await subnetReady(lab, 'subnet-a2');
    const a3 = await lab.addPod({ namespace: 'vpc-a2', name: 'a3', node: a2.node });
    assert.ok(await pings(a3, a2.ip), 'a3 reaches a2 through the vpc-a router before any policy');
    // a2 owns 172.31.99.1, which only the static route leads to; a1 is the reroute's next hop. Named as next hops
    // by vpc-a's routes, their ports get MAC-only port security, so they may receive and send others' addresses.
    // The rerouted a3 -> a2 packets reach a1 from the router and a1 hands them to a2 on their shared Subnet, so
    // they do not enter the router (and its policy) again.
    await lab.exec(a1.netns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=0', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0']);
    await lab.exec(a2.netns, 'ip', ['addr', 'add', '172.31.99.1/32', 'dev', 'eth0']);
    assert.equal(await pings(a1, '172.31.99.1', 2), false, 'no route to 172.31.99.0/24 yet');
    await kube().patch('/apis/kubeovn.io/v1/vpcs/vpc-a', { spec: {
      staticRoutes: [{ cidr: '172.31.99.0/24', nextHopIP: a2.ip, policy: 'policyDst' }],
      policyRoutes: [{ priority: 31000, match: `ip4.src == ${a3.ip} && ip4.dst == ${a2.ip}`, action: 'reroute', nextHopIP: a1.ip }],
    } }, 'merge');
    await waitFor('vpc-a static route', async () => (await lab.nbctl(['lr-route-list', 'vpc-a'])).includes('172.31.99.0/24'), 15_000);
    await waitFor('vpc-a policy', async () => (await lab.nbctl(['lr-policy-list', 'vpc-a'])).includes('reroute'), 15_000);
    assert.ok(await pings(a1, '172.31.99.1', 5), 'static route: 172.31.99.1 answered by a2');
    // a1 does not forward yet: the rerouted a3 -> a2 traffic dies there; a1 <-> a3, which the policy does not match, works.
    await waitFor('reroute in force (a3 -> a2 dropped at a1)', async () => !(await pings(a3, a2.ip, 1)), 15_000, 200);
    assert.ok(await pings(a1, a3.ip), 'a1 -> a3 is not rerouted');
    await lab.exec(a1.netns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    assert.ok(await pings(a3, a2.ip, 5), 'a3 -> a2 through a1 once a1 forwards');
    const rx = Number(await lab.exec(a1.netns, 'cat', ['/sys/class/net/eth0/statistics/rx_packets']));
    const t = await tcpExchange(a3.netns, a2.ip, POD_SERVER_PORT);
    assert.ok(t.ok, `a3 -> a2 TCP through a1: ${t.detail}`);
    const rx2 = Number(await lab.exec(a1.netns, 'cat', ['/sys/class/net/eth0/statistics/rx_packets']));
    assert.ok(rx2 - rx >= 20, `a1 carried the 100 kB TCP exchange (${rx2 - rx} packets)`);
  });

  it('a private Subnet admits only itself and allowSubnets; a Namespace annotation binds a Namespace', async () => {
    const [b1] = vl.pods['vpc-b'];
    for (const ns of ['vpc-bp', 'vpc-bq']) await namespace(ns);
    await namespace('vpc-ann', { 'ovn.kubernetes.io/logical_switch': 'subnet-bq' });
    await subnet('subnet-bp', { vpc: 'vpc-b', cidrBlock: '10.60.0.0/24', namespaces: ['vpc-bp'], private: true, allowSubnets: ['10.61.0.0/24'] });
    await subnet('subnet-bq', { vpc: 'vpc-b', cidrBlock: '10.61.0.0/24', namespaces: ['vpc-bq'] });
    await subnetReady(lab, 'subnet-bp');
    await subnetReady(lab, 'subnet-bq');
    const bp = await lab.addPod({ namespace: 'vpc-bp', name: 'bp1', node: 'node1' });
    const bq = await lab.addPod({ namespace: 'vpc-bq', name: 'bq1', node: 'node2' });
    const an = await lab.addPod({ namespace: 'vpc-ann', name: 'n1', node: 'node1' });
    assert.match(bp.ip, /^10\.60\.0\./);
    assert.match(bq.ip, /^10\.61\.0\./);
    assert.match(an.ip, /^10\.61\.0\./, 'the Namespace annotation put n1 on subnet-bq');
    assert.ok((await tcpExchange(bq.netns, bp.ip, POD_SERVER_PORT)).ok, 'allowSubnets 10.61.0.0/24 reaches the private Subnet');
    assert.equal((await tcpExchange(b1.netns, bp.ip, POD_SERVER_PORT, 2)).ok, false, 'subnet-b (10.50.0.0/24) does not');
    assert.equal(await pings(b1, bp.ip, 2), false);
    assert.ok((await tcpExchange(bp.netns, b1.ip, POD_SERVER_PORT)).ok, 'the private Subnet itself reaches out (replies pass)');
  });

  it("the seed's net2 manifest, applied against a custom Vpc in place of the neutron one", async () => {
    const docs = yaml.loadAll(readFileSync(new URL('../fixtures/kubeovn/seed-net2.yaml', import.meta.url), 'utf8')) as KubeObject[];
    const path: Record<string, string> = { Namespace: '/api/v1/namespaces', Vpc: '/apis/kubeovn.io/v1/vpcs', Subnet: '/apis/kubeovn.io/v1/subnets' };
    for (const d of docs.filter((x) => x.kind !== 'Pod')) {
      // As `kubectl get -o yaml` wrote it: a create may not carry the server-set resourceVersion/uid/creationTimestamp/generation.
      const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, generation: _g, ...meta } = d.metadata;
      await kube().create(path[d.kind as string], { ...d, metadata: meta });
    }
    await subnetReady(lab, 'net2');
    const pod = docs.find((x) => x.kind === 'Pod')!;
    const u1 = await lab.addPod({ namespace: pod.metadata.namespace as string, name: pod.metadata.name as string, node: 'node1' });
    const u2 = await lab.addPod({ namespace: 'net2', name: 'ubuntu-2', node: 'node2' });
    assert.match(u1.ip, /^12\.0\.1\./);
    const ann = JSON.parse((await kube().get(`/api/v1/namespaces/net2/pods/ubuntu`)).metadata.annotations!['tessera.io/pod-networks']!) as { default: { gateway_ips: string[]; logical_switch: string } };
    assert.deepEqual([ann.default.gateway_ips, ann.default.logical_switch], [['12.0.1.1'], 'net2']);
    assert.ok(await pings(u1, '12.0.1.1'), 'the Vpc router answers at the gateway');
    assert.ok((await tcpExchange(u1.netns, u2.ip, POD_SERVER_PORT)).ok, 'net2 pods talk across nodes');
    assert.equal(await pings(u1, vl.pods['vpc-a'][0].ip, 2), false, 'nor into vpc-a');
    assert.match(await lab.nbctl(['lr-list']), /neutron-22040ed5-0598-4f77-bffd-e7fd4db47e93/);
  });

  it('kubectl get vpc / subnet show the printer columns', async () => {
    const vpcs = await kubectlGet(kube(), 'vpcs');
    const subnets = await kubectlGet(kube(), 'subnets');
    process.stdout.write(`${vpcs}\n${subnets}\n`.replace(/^/gm, '      '));
    assert.match(vpcs.split('\n')[0], /^NAME\s+STANDBY\s+SUBNETS$/);
    assert.match(vpcs, /^neutron-22040ed5-0598-4f77-bffd-e7fd4db47e93\s+true\s+\["net2"\]$/m);
    assert.match(vpcs, /^ovn-cluster\s+true\s+\["join","ovn-default"\]$/m);
    assert.match(vpcs, /^vpc-a\s+true\s+\["subnet-a","subnet-a2"\]$/m);
    assert.match(subnets.split('\n')[0], /^NAME\s+PROVIDER\s+VPC\s+PROTOCOL\s+CIDR\s+PRIVATE\s+NAT\s+DEFAULT\s+GATEWAYTYPE\s+V4USED\s+V4AVAILABLE\s+EXCLUDEIPS$/);
    assert.match(subnets, /^subnet-a\s+ovn\s+vpc-a\s+IPv4\s+10\.50\.0\.0\/24\s+false\s+false\s+false\s+distributed\s+2\s+96\s+\["10\.50\.0\.100\.\.10\.50\.0\.254"\]$/m);
    assert.match(subnets, /^net2\s+ovn\s+neutron-22040ed5-0598-4f77-bffd-e7fd4db47e93\s+IPv4\s+12\.0\.1\.0\/24\s+false\s+false\s+false\s+distributed\s+2\s+251\s+<none>$/m);
  });

  it('a Subnet deleted with pods in it waits for them, then its switch and router port go', async () => {
    await kube().delete('/apis/kubeovn.io/v1/subnets/subnet-bq');
    const get = () => kube().get<KubeObject & { status?: { conditions?: Array<{ type: string; reason?: string }> } }>('/apis/kubeovn.io/v1/subnets/subnet-bq').catch(() => undefined);
    await waitFor('subnet-bq Terminating', async () => (await get())?.status?.conditions?.some((c) => c.type === 'Ready' && c.reason === 'Terminating') ?? false, 15_000);
    assert.match(await lab.nbctl(['ls-list']), /subnet-bq/);
    await lab.deletePod('vpc-bq', 'bq1');
    await lab.deletePod('vpc-ann', 'n1');
    await waitFor('subnet-bq gone', async () => (await get()) === undefined, 20_000);
    await waitFor('its NB rows gone', async () => !(await lab.nbctl(['ls-list'])).includes('subnet-bq') && !(await lab.nbctl(['show', 'vpc-b'])).includes('vpc-b-subnet-bq'), 10_000);
  });
});
