// Vpc/Subnet → NB rows (watcher/vpc/translate.ts), the Subnet address rules (lib/kube/kubeovn.ts), the
// Subnet IPAM layout (gateway, excludeIps) and pod placement precedence (watcher/vpc/placement.ts).
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { subnetAddressing, subnetAddressProblem, type Subnet, type Vpc } from '../../../lib/kube/kubeovn.js';
import { subnetRows, vpcRows, PRIVATE_ALLOW_PRIORITY, PRIVATE_DROP_PRIORITY } from '../../../watcher/vpc/translate.js';
import { placePod } from '../../../watcher/vpc/placement.js';
import { SubnetIPAM } from '../../../watcher/ipam/pod-ipam.js';
import { formatIP, parseCIDR } from '../../../lib/ipnet/index.js';
import { IndexedStore } from '../../../watcher/informers.js';

const subnet = (name: string, spec: Subnet['spec'], ts = '2026-01-01T00:00:00Z'): Subnet => ({ metadata: { name, creationTimestamp: ts as unknown as Date }, spec });
const vpc = (name: string, spec: Vpc['spec'] = {}): Vpc => ({ metadata: { name }, spec });
const OWNER = { 'tessera.io/owner': 'tessera-watcher' };

describe('Vpc → NB rows', () => {
  it('a custom Vpc is its own router with its static routes and policies', () => {
    const r = vpcRows(vpc('vpc-a', {
      staticRoutes: [{ cidr: '0.0.0.0/0', nextHopIP: '10.50.0.254' }, { cidr: '10.50.0.0/24', nextHopIP: '10.50.0.253', policy: 'policySrc' }],
      policyRoutes: [{ priority: 100, match: 'ip4.src == 10.50.0.10', action: 'reroute', nextHopIP: '10.50.0.20' }, { priority: 90, match: 'ip4.dst == 1.1.1.1', action: 'drop' }],
    }));
    assert.equal(r.router, 'vpc-a');
    assert.deepEqual(r.routerSpec, { name: 'vpc-a', external_ids: { ...OWNER, 'tessera.io/kind': 'vpc', 'tessera.io/object': 'vpc-a' } });
    assert.deepEqual(r.routes.map((x) => [x.ip_prefix, x.nexthop, x.policy]), [['0.0.0.0/0', '10.50.0.254', 'dst-ip'], ['10.50.0.0/24', '10.50.0.253', 'src-ip']]);
    assert.deepEqual(r.policies.map((p) => [p.priority, p.action, p.nexthops, p.match]), [[100, 'reroute', ['10.50.0.20'], 'ip4.src == 10.50.0.10'], [90, 'drop', [], 'ip4.dst == 1.1.1.1']]);
  });

  it('the default Vpc adds routes to ovn_cluster_router and never creates it', () => {
    const r = vpcRows(vpc('ovn-cluster', { staticRoutes: [{ cidr: '192.0.2.0/24', nextHopIP: '100.64.0.9' }] }));
    assert.equal(r.router, 'ovn_cluster_router');
    assert.equal(r.routerSpec, undefined);
    assert.equal(r.routes.length, 1);
  });

  it('refuses a reroute without a next hop and a bad route CIDR, naming the entry', () => {
    assert.throws(() => vpcRows(vpc('v', { policyRoutes: [{ priority: 1, match: 'ip4', action: 'reroute' }] })), /policyRoutes\[0\]\.nextHopIP/);
    assert.throws(() => vpcRows(vpc('v', { staticRoutes: [{ cidr: 'x', nextHopIP: '10.0.0.1' }] })), /staticRoutes\[0\]\.cidr "x"/);
  });
});

describe('Subnet → NB rows', () => {
  it('a switch named after the Subnet, linked to its Vpc router at the gateway', () => {
    const s = subnet('net2', { vpc: 'vpc-a', cidrBlock: '12.0.1.0/24', excludeIps: ['12.0.1.2..12.0.1.9', '12.0.1.100'] });
    const r = subnetRows(s, subnetAddressing(s.spec));
    assert.equal(r.router, 'vpc-a');
    assert.deepEqual(r.switchSpec.other_config, { subnet: '12.0.1.0/24', exclude_ips: '12.0.1.2..12.0.1.9 12.0.1.100' });
    assert.equal(r.switchSpec.external_ids['tessera.io/kind'], 'subnet');
    assert.deepEqual([r.routerPort.name, r.routerPort.mac, r.routerPort.networks], ['vpc-a-net2', '0a:58:0c:00:01:01', ['12.0.1.1/24']]);
    assert.deepEqual([r.switchPort.name, r.switchPort.type, r.switchPort.options], ['net2-vpc-a', 'router', { 'router-port': 'vpc-a-net2' }]);
    assert.deepEqual(r.acls, []);
  });

  it('vpc defaults to ovn-cluster; gateway is where spec.gateway says', () => {
    const s = subnet('s1', { cidrBlock: '10.70.0.0/16', gateway: '10.70.255.254' });
    const r = subnetRows(s, subnetAddressing(s.spec));
    assert.equal(r.router, 'ovn_cluster_router');
    assert.deepEqual(r.routerPort.networks, ['10.70.255.254/16']);
  });

  it('private: allow-related from itself and allowSubnets, drop the rest addressed to it', () => {
    const s = subnet('p', { cidrBlock: '10.80.0.0/24', private: true, allowSubnets: ['10.81.0.0/24'] });
    const acls = subnetRows(s, subnetAddressing(s.spec)).acls;
    assert.deepEqual(acls.map((a) => [a.direction, a.priority, a.action, a.match]), [
      ['to-lport', PRIVATE_ALLOW_PRIORITY, 'allow-related', 'ip4.src == {10.80.0.0/24, 10.81.0.0/24} && ip4.dst == 10.80.0.0/24'],
      ['to-lport', PRIVATE_DROP_PRIORITY, 'drop', 'ip4.dst == 10.80.0.0/24'],
    ]);
  });
});

describe('Subnet address rules', () => {
  it('refuses what the CRD CEL rules refuse, and IPv6 for now', () => {
    assert.match(subnetAddressProblem({ cidrBlock: '12.0.1.1/24' }) ?? '', /host bits/);
    assert.match(subnetAddressProblem({ cidrBlock: '12.0.1.0/24', gateway: '12.0.2.1' }) ?? '', /outside cidrBlock/);
    assert.match(subnetAddressProblem({ cidrBlock: '12.0.1.0/24', gateway: '12.0.1.255' }) ?? '', /broadcast/);
    assert.match(subnetAddressProblem({ cidrBlock: '12.0.1.0/24', excludeIps: ['12.0.1.5..12.0.3.1'] }) ?? '', /outside cidrBlock/);
    assert.match(subnetAddressProblem({ cidrBlock: '12.0.1.0/24', excludeIps: ['12.0.1.9..12.0.1.5'] }) ?? '', /ends before it starts/);
    assert.match(subnetAddressProblem({ cidrBlock: 'fd00::/64', protocol: 'IPv6' }) ?? '', /only IPv4/);
    assert.equal(subnetAddressProblem({ cidrBlock: '12.0.1.0/24', gateway: '12.0.1.254', excludeIps: ['12.0.1.1'] }), undefined);
  });

  it('IPAM never hands out the gateway or an excluded address, and counts them out of the capacity', () => {
    const a = subnetAddressing({ cidrBlock: '10.9.0.0/28', gateway: '10.9.0.1', excludeIps: ['10.9.0.2..10.9.0.5', '10.9.0.4', '10.9.0.14'] });
    const s = new SubnetIPAM(a.cidr, { gateway: a.gateway, exclude: a.exclude });
    // 14 host addresses (.1-.14) minus the gateway, .2-.5 and .14.
    assert.equal(s.capacity, 8);
    const got = Array.from({ length: 8 }, (_, i) => formatIP(s.allocate(`p${i}`)));
    assert.deepEqual(got, ['10.9.0.6', '10.9.0.7', '10.9.0.8', '10.9.0.9', '10.9.0.10', '10.9.0.11', '10.9.0.12', '10.9.0.13']);
    assert.throws(() => s.allocate('p9'), /no free address/);
    assert.match(s.problem({ family: 4, value: parseCIDR('10.9.0.3/32').value }, 'x') ?? '', /excludeIps/);
  });
});

describe('pod placement', () => {
  const pod = (ns: string, ann: Record<string, string> = {}): V1Pod => ({ metadata: { namespace: ns, name: 'p', annotations: ann }, spec: { nodeName: 'n1', containers: [] } });
  const view = (subnets: Subnet[], vpcs: Vpc[] = [], nsAnn: Record<string, string> = {}) => {
    const s = new IndexedStore<Subnet>();
    subnets.forEach((x) => s.put(x));
    const v = new IndexedStore<Vpc>();
    vpcs.forEach((x) => v.put(x));
    return { subnets: s, vpcs: v, namespaceAnnotation: (ns: string) => nsAnn[ns] };
  };

  it('pod annotation, then Namespace annotation, then Subnet.spec.namespaces, then Vpc.spec.namespaces, then a default Subnet, then the node switch', () => {
    const subs = [subnet('a', { cidrBlock: '10.1.0.0/24', namespaces: ['ns1'] }), subnet('b', { cidrBlock: '10.2.0.0/24', vpc: 'v1' }), subnet('c', { cidrBlock: '10.3.0.0/24', vpc: 'v1', default: true }, '2026-02-01T00:00:00Z')];
    const v = view(subs, [vpc('v1', { namespaces: ['ns2'] })], { ns3: 'b' });
    assert.deepEqual(placePod(pod('ns1', { 'ovn.kubernetes.io/logical_switch': 'b' }), v), { ls: 'b', requested: true, via: 'pod annotation ovn.kubernetes.io/logical_switch' });
    assert.equal(placePod(pod('ns3'), v).ls, 'b');
    assert.equal(placePod(pod('ns1'), v).ls, 'a');
    assert.equal(placePod(pod('ns2'), v).ls, 'c'); // the Vpc's default Subnet, though b is older
    assert.equal(placePod(pod('other'), v).ls, 'n1');
    assert.equal(placePod(pod('ns1', { 'ovn.kubernetes.io/logical_switch': 'ovn-default' }), v).ls, 'n1');
    const withDefault = view([...subs, subnet('d', { cidrBlock: '10.4.0.0/24', default: true })]);
    assert.equal(placePod(pod('other'), withDefault).ls, 'd');
  });
});

describe('Vpc next hops', () => {
  it('a pod holding a next hop of its own Vpc forwards; the same address in another Vpc or a bad one does not', async () => {
    const { forwards, nextHops } = await import('../../../watcher/vpc/next-hops.js');
    const v = vpc('vpc-a', { staticRoutes: [{ cidr: '172.31.99.0/24', nextHopIP: '10.50.0.3' }], policyRoutes: [{ priority: 1, match: 'ip4', action: 'reroute', nextHopIP: '10.50.0.4' }, { priority: 2, match: 'ip4', action: 'drop', nextHopIP: '10.50.0.5' }] });
    assert.deepEqual(nextHops(v), ['10.50.0.3', '10.50.0.4']);
    const vpcOf = (ls: string) => ({ sa: 'vpc-a', sb: 'vpc-b' })[ls];
    const get = (n: string) => (n === 'vpc-a' ? v : vpc(n));
    assert.equal(forwards('sa', '10.50.0.3', vpcOf, get), true);
    assert.equal(forwards('sa', '10.50.0.5', vpcOf, get), false);
    assert.equal(forwards('sb', '10.50.0.3', vpcOf, get), false);
    assert.equal(forwards('node1', '10.50.0.3', vpcOf, get), false);
  });
});
