// tessera-watcher's Vpc/Subnet controller against a real NB and the API test double (which serves the CRDs'
// schema): the default objects, custom Vpcs with overlapping Subnets, NB rows, pod placement and IPAM,
// status and conditions, refusals with Events, the deletion finalizer, and a restart that keeps every address.
import assert from 'node:assert/strict';
import { WatcherFixture, until, sleep } from './fixture.js';
import { findResource, type KubeObject } from '../../../kube-double/resources.js';
import { contains, parseCIDR, parseIP } from '../../../lib/ipnet/index.js';

const VPC = findResource('kubeovn.io', 'v1', 'vpcs')!;
const SUBNET = findResource('kubeovn.io', 'v1', 'subnets')!;
type Cond = { type: string; status: string; reason?: string; message?: string };
type Status = { v4usingIPs?: number; v4availableIPs?: number; conditions?: Cond[]; default?: boolean; standby?: boolean; router?: string; subnets?: string[] };

describe('watcher: Vpc and Subnet (real NB)', function () {
  this.timeout(90000);
  const f = new WatcherFixture();
  const get = (rt: typeof VPC, name: string): (KubeObject & { status?: Status }) | undefined => {
    try {
      return f.store.get(rt, undefined, name) as KubeObject & { status?: Status };
    } catch {
      return undefined;
    }
  };
  const cond = (name: string, type: string) => get(SUBNET, name)?.status?.conditions?.find((c) => c.type === type);
  const ready = (name: string) => until(() => cond(name, 'Ready')?.status === 'True', 20000, `Subnet ${name} Ready`);
  const subnet = (name: string, spec: Record<string, unknown>) => f.store.create(SUBNET, undefined, { apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name }, spec });
  const vpc = (name: string, spec: Record<string, unknown> = {}) => f.store.create(VPC, undefined, { apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name }, spec });
  const ipOf = (ns: string, pod: string) => until(() => f.podNetwork(ns, pod), 20000, `${ns}/${pod} annotated`);
  const lr = (name: string) => f.nb.cache.lookup('Logical_Router', 'name', name);
  const events = (name: string) => f.list('event', 'default').filter((e) => (e.involvedObject as { name: string }).name === name).map((e) => `${e.reason as string}: ${e.message as string}`);

  before(async () => {
    await f.start();
    f.node('n1');
    f.node('n2');
    f.startWatcher();
  });
  after(async () => {
    await f.stop();
  });

  it('creates the default Vpc ovn-cluster and the Subnets ovn-default and join', async () => {
    const v = await until(() => (get(VPC, 'ovn-cluster')?.status?.router ? get(VPC, 'ovn-cluster') : undefined), 20000, 'ovn-cluster status');
    assert.deepEqual({ ...v.status, conditions: undefined }, { default: true, standby: true, router: 'ovn_cluster_router', subnets: ['join', 'ovn-default'], conditions: undefined });
    const d = get(SUBNET, 'ovn-default')!;
    assert.deepEqual([d.spec && (d.spec as Record<string, unknown>).cidrBlock, (d.spec as Record<string, unknown>).default], ['10.244.0.0/16', true]);
    assert.equal(get(SUBNET, 'join')?.spec && (get(SUBNET, 'join')!.spec as Record<string, unknown>).cidrBlock, '100.64.0.0/16');
    f.pod('default', 'd1', 'n1');
    await ipOf('default', 'd1');
    await until(() => get(SUBNET, 'ovn-default')?.status?.v4usingIPs === 1, 10000, 'ovn-default counts the node-switch pod');
  });

  it('serves two custom Vpcs whose Subnets overlap: a router each, a switch each linked at the gateway', async () => {
    vpc('vpc-a', { staticRoutes: [{ cidr: '0.0.0.0/0', nextHopIP: '10.50.0.254' }], policyRoutes: [{ priority: 100, match: 'ip4.src == 10.50.0.10', action: 'reroute', nextHopIP: '10.50.0.20' }] });
    vpc('vpc-b');
    subnet('sa', { vpc: 'vpc-a', cidrBlock: '10.50.0.0/24', excludeIps: ['10.50.0.2..10.50.0.9'], namespaces: ['ta'] });
    subnet('sb', { vpc: 'vpc-b', cidrBlock: '10.50.0.0/24' });
    await ready('sa');
    await ready('sb');
    for (const [s, v] of [['sa', 'vpc-a'], ['sb', 'vpc-b']]) {
      const router = await until(() => lr(v), 5000, `router ${v}`);
      const lrp = f.nb.cache.lookup('Logical_Router_Port', 'name', `${v}-${s}`);
      assert.deepEqual(lrp?.networks, ['10.50.0.1/24']);
      assert.ok(router.ports.includes(lrp!._uuid), `${v}-${s} on router ${v}`);
      const ls = f.ls(s)!;
      assert.equal(ls.other_config.subnet, '10.50.0.0/24');
      const lsp = f.lsp(`${s}-${v}`);
      assert.deepEqual([lsp?.type, lsp?.options['router-port']], ['router', `${v}-${s}`]);
      assert.ok(ls.ports.includes(lsp!._uuid));
      assert.deepEqual(get(SUBNET, s)?.metadata.finalizers, ['tessera.io/subnet']);
    }
    assert.equal(f.ls('sa')?.other_config.exclude_ips, '10.50.0.2..10.50.0.9');
    const routes = lr('vpc-a')!.static_routes.map((u) => f.nb.cache.get('Logical_Router_Static_Route', u)!);
    assert.deepEqual(routes.map((r) => [r.ip_prefix, r.nexthop, r.policy]), [['0.0.0.0/0', '10.50.0.254', 'dst-ip']]);
    const pols = lr('vpc-a')!.policies.map((u) => f.nb.cache.get('Logical_Router_Policy', u)!);
    assert.deepEqual(pols.map((p) => [p.priority, p.action, p.nexthops, p.match]), [[100, 'reroute', ['10.50.0.20'], 'ip4.src == 10.50.0.10']]);
    await until(() => JSON.stringify(get(VPC, 'vpc-a')?.status?.subnets) === '["sa"]', 10000, 'vpc-a status lists sa');
    assert.deepEqual([get(VPC, 'vpc-a')?.status?.router, get(VPC, 'vpc-a')?.status?.default, get(VPC, 'vpc-a')?.status?.standby], ['vpc-a', false, true]);
    // Nothing of theirs went onto the default router.
    assert.ok(!lr('ovn_cluster_router')!.ports.some((u) => f.nb.cache.get('Logical_Router_Port', u)?.name.endsWith('-sa')));
  });

  it('places pods by namespace binding and by annotation, never on excludeIps, and counts them in status', async () => {
    f.namespace('ta');
    f.pod('ta', 'p1', 'n1');
    f.pod('ta', 'p2', 'n2');
    f.pod('default', 'pb', 'n2', { annotations: { 'ovn.kubernetes.io/logical_switch': 'sb' } });
    const sa = parseCIDR('10.50.0.0/24');
    for (const [ns, p, ls] of [['ta', 'p1', 'sa'], ['ta', 'p2', 'sa'], ['default', 'pb', 'sb']]) {
      const net = await ipOf(ns, p);
      const ip = net.ip_addresses[0].split('/')[0];
      assert.equal(net.logical_switch, ls);
      assert.deepEqual(net.gateway_ips, ['10.50.0.1']);
      assert.ok(contains(sa, parseIP(ip)) && ip !== '10.50.0.1', `${ns}/${p}: ${ip} is a pod address`);
      if (ls === 'sa') assert.ok(!/^10\.50\.0\.[2-9]$/.test(ip), `${ns}/${p}: ${ip} is outside excludeIps`);
      assert.ok(f.ls(ls)!.ports.includes(f.lsp(`${ns}_${p}`)!._uuid));
    }
    await until(() => get(SUBNET, 'sa')?.status?.v4usingIPs === 2, 10000, 'sa v4usingIPs 2');
    // 254 hosts - gateway - 8 excluded - 2 used
    assert.equal(get(SUBNET, 'sa')?.status?.v4availableIPs, 243);
  });

  it('the pod holding a next hop of its Vpc gets MAC-only port security; the others keep "<mac> <ip>"', async () => {
    const ip1 = f.podNetwork('ta', 'p1')!.ip_addresses[0].split('/')[0];
    const ps = (pod: string) => f.lsp(`ta_${pod}`)!.port_security;
    assert.equal(ps('p1')[0].split(' ').length, 2);
    f.store.patch(VPC, undefined, 'vpc-a', 'merge', { spec: { staticRoutes: [{ cidr: '0.0.0.0/0', nextHopIP: ip1 }] } });
    await until(() => ps('p1').length === 1 && ps('p1')[0].split(' ').length === 1, 10000, 'p1 MAC-only port security');
    assert.equal(ps('p1')[0], f.podNetwork('ta', 'p1')!.mac_address);
    assert.equal(ps('p2')[0].split(' ').length, 2);
    f.store.patch(VPC, undefined, 'vpc-a', 'merge', { spec: { staticRoutes: [{ cidr: '0.0.0.0/0', nextHopIP: '10.50.0.254' }] } });
    await until(() => ps('p1')[0].split(' ').length === 2, 10000, 'p1 "<mac> <ip>" again');
  });

  it('refuses an overlapping Subnet in the same Vpc, and a cidrBlock change while pods use it, with conditions and Events', async () => {
    subnet('sa2', { vpc: 'vpc-a', cidrBlock: '10.50.0.128/25' });
    await until(() => cond('sa2', 'Error')?.reason === 'CidrOverlap', 20000, 'sa2 CidrOverlap');
    assert.match(cond('sa2', 'Error')!.message!, /overlaps Subnet sa \(10\.50\.0\.0\/24\) in Vpc vpc-a/);
    assert.equal(f.ls('sa2'), undefined);
    await until(() => events('sa2').some((e) => e.startsWith('CidrOverlap: ')), 5000, 'CidrOverlap Event');
    // The default Vpc's own ranges count too.
    subnet('in-cluster', { cidrBlock: '10.244.7.0/24' });
    await until(() => cond('in-cluster', 'Error')?.reason === 'CidrOverlap', 20000, 'in-cluster CidrOverlap');

    f.store.patch(SUBNET, undefined, 'sa', 'merge', { spec: { cidrBlock: '10.60.0.0/24', excludeIps: [] } });
    await until(() => cond('sa', 'Error')?.reason === 'CidrChangeRefused', 20000, 'sa CidrChangeRefused');
    assert.match(cond('sa', 'Error')!.message!, /10\.50\.0\.0\/24 -> 10\.60\.0\.0\/24 refused: 2 pod\(s\)/);
    assert.equal(f.ls('sa')?.other_config.subnet, '10.50.0.0/24');
    assert.deepEqual(f.nb.cache.lookup('Logical_Router_Port', 'name', 'vpc-a-sa')?.networks, ['10.50.0.1/24']);
    await until(() => events('sa').some((e) => e.startsWith('CidrChangeRefused: ')), 5000, 'CidrChangeRefused Event');
    f.store.patch(SUBNET, undefined, 'sa', 'merge', { spec: { cidrBlock: '10.50.0.0/24', excludeIps: ['10.50.0.2..10.50.0.9'] } });
    await ready('sa');
  });

  it('a private Subnet gets its allowSubnets ACLs', async () => {
    subnet('priv', { vpc: 'vpc-b', cidrBlock: '10.90.0.0/24', private: true, allowSubnets: ['10.50.0.0/24'] });
    await ready('priv');
    const acls = f.ls('priv')!.acls.map((u) => f.nb.cache.get('ACL', u)!).map((a) => [a.priority, a.action, a.match]).sort();
    assert.deepEqual(acls, [[2000, 'drop', 'ip4.dst == 10.90.0.0/24'], [2001, 'allow-related', 'ip4.src == {10.90.0.0/24, 10.50.0.0/24} && ip4.dst == 10.90.0.0/24']]);
  });

  it('a Subnet router port and a Vpc static route deleted by another writer come back, with an Event on each', async () => {
    const lrpOk = () => {
      const p = f.nb.cache.lookup('Logical_Router_Port', 'name', 'vpc-b-sb');
      return !!p && p.networks.join() === '10.50.0.1/24' && lr('vpc-b')!.ports.includes(p._uuid);
    };
    const routeOk = () => lr('vpc-a')!.static_routes.map((u) => f.nb.cache.get('Logical_Router_Static_Route', u)).some((r) => r?.ip_prefix === '0.0.0.0/0' && r.nexthop === '10.50.0.254');
    assert.ok(lrpOk() && routeOk());
    await f.nbctl('lrp-del', 'vpc-b-sb');
    await f.nbctl('lr-route-del', 'vpc-a', '0.0.0.0/0');
    await until(() => lrpOk() && routeOk(), 5000, 'the router port and the route restored');
    await until(() => events('sb').some((e) => e.startsWith('NBDriftRepaired:')) && events('vpc-a').some((e) => e.startsWith('NBDriftRepaired:')), 5000, 'NBDriftRepaired on sb and vpc-a');
  });

  it('restarted with SIGKILL, the watcher keeps every address and writes no duplicates', async () => {
    const before = ['p1', 'p2'].map((p) => f.lsp(`ta_${p}`)!.addresses[0]).concat(f.lsp('default_pb')!.addresses[0]);
    const counts = () => ['Logical_Router', 'Logical_Router_Port', 'Logical_Switch', 'Logical_Switch_Port', 'Logical_Router_Static_Route', 'Logical_Router_Policy', 'ACL'].map((t) => f.nb.cache.size(t as never));
    const c0 = counts();
    await f.procs[0].kill('SIGKILL');
    const w = f.startWatcher();
    await until(() => /reconcile \(start\) done/.test(w.log()), 30000, 'restarted watcher reconciled');
    f.pod('ta', 'p3', 'n1');
    const p3 = (await ipOf('ta', 'p3')).ip_addresses[0].split('/')[0];
    assert.ok(!before.some((a) => a.endsWith(` ${p3}`)), `p3 got a fresh address ${p3}`);
    assert.deepEqual(['p1', 'p2'].map((p) => f.lsp(`ta_${p}`)!.addresses[0]).concat(f.lsp('default_pb')!.addresses[0]), before);
    const c1 = counts();
    c1[3] -= 1; // p3's port
    assert.deepEqual(c1, c0);
  });

  it('a Subnet deleted with pods in it waits for them (finalizer), then every row it owned goes', async () => {
    f.store.delete(SUBNET, undefined, 'sa', {});
    await until(() => cond('sa', 'Ready')?.reason === 'Terminating', 20000, 'sa Terminating');
    assert.ok(f.ls('sa'), 'switch stays while pods use it');
    await sleep(1500);
    assert.ok(get(SUBNET, 'sa'));
    for (const p of ['p1', 'p2', 'p3']) f.remove('pod', 'ta', p);
    await until(() => !get(SUBNET, 'sa'), 20000, 'Subnet sa gone');
    await until(() => !f.ls('sa') && !f.nb.cache.lookup('Logical_Router_Port', 'name', 'vpc-a-sa'), 10000, 'sa rows gone');
    assert.equal(f.lsp('sa-vpc-a'), undefined);
    // sa2 no longer overlaps anything served: it is served now, and vpc-a lists it alone.
    await ready('sa2');
    await until(() => JSON.stringify(get(VPC, 'vpc-a')?.status?.subnets) === '["sa2"]', 10000, 'vpc-a lists sa2 only');
  });

  it('a deleted Vpc takes its router, routes and policies with it', async () => {
    f.store.delete(SUBNET, undefined, 'sa2', {});
    await until(() => !get(SUBNET, 'sa2'), 20000, 'sa2 gone');
    f.store.delete(VPC, undefined, 'vpc-a', {});
    await until(() => !lr('vpc-a'), 20000, 'router vpc-a gone');
    assert.equal(f.nb.cache.list('Logical_Router_Static_Route').filter((r) => r.external_ids['tessera.io/object'] === 'vpc-a').length, 0);
  });
});
