import assert from 'node:assert/strict';
import { egressSubnets, isDefaultVpcSubnetSwitch, natOutgoingOf } from '../../../gateway/subnets.js';
import { gatewayTopology, natKey, routeKey, type TopologyInput } from '../../../gateway/topology.js';
import { bridgeFlows } from '../../../gateway/flows.js';
import { relevantToGateway } from '../../../gateway/nb.js';
import { DEFAULT_EGRESS } from '../../../gateway/egress-nat.js';
import type { Subnet } from '../../../lib/kube/kubeovn.js';

const ids = (subnet: string, vpc: string) => ({ 'tessera.io/owner': 'tessera-watcher', 'tessera.io/kind': 'subnet', 'tessera.io/object': subnet, 'tessera.io/vpc': vpc });
const sw = (subnet: string, vpc: string, cidr: string) => ({ other_config: { subnet: cidr }, external_ids: ids(subnet, vpc) });
const subnets: Record<string, Subnet> = {
  on: { metadata: { name: 'on' }, spec: { cidrBlock: '10.70.0.0/24', natOutgoing: true } },
  off: { metadata: { name: 'off' }, spec: { cidrBlock: '10.71.0.0/24', natOutgoing: false } },
};

describe('gateway: the default Vpc Subnets it serves egress for', () => {
  const switches = [
    sw('on', 'ovn-cluster', '10.70.0.0/24'), sw('off', 'ovn-cluster', '10.71.0.0/24'),
    sw('custom', 'vpc-a', '10.72.0.0/24'), // another router's
    { other_config: { subnet: '10.244.1.0/24' }, external_ids: { 'tessera.io/owner': 'tessera-watcher', 'tessera.io/kind': 'node', 'tessera.io/object': 'n1' } },
    { other_config: { subnet: '10.80.0.0/24' }, external_ids: { ...ids('foreign', 'ovn-cluster'), 'tessera.io/owner': 'someone-else' } },
    sw('v6', 'ovn-cluster', 'fd00::/64'),
  ];

  it('takes served switches of ovn-cluster only, with the CIDR NB serves and natOutgoing from the Subnet', () => {
    const got = egressSubnets(switches, natOutgoingOf(true, (n) => subnets[n], () => true));
    assert.deepEqual(got, [{ name: 'off', cidr: '10.71.0.0/24', natOutgoing: false }, { name: 'on', cidr: '10.70.0.0/24', natOutgoing: true }]);
    assert.ok(isDefaultVpcSubnetSwitch(switches[0]!) && !isDefaultVpcSubnetSwitch(switches[2]!) && !isDefaultVpcSubnetSwitch(switches[4]!));
  });

  it('a change to a default-Vpc Subnet switch makes the gateway plan again; a custom Vpc one does not', () => {
    assert.ok(relevantToGateway({ table: 'Logical_Switch', row: { name: 'on', ...switches[0]! } }, 'n1'));
    assert.ok(!relevantToGateway({ table: 'Logical_Switch', row: { name: 'custom', ...switches[2]! } }, 'n1'));
  });

  it('a switch whose Subnet object is gone gets no SNAT; before the Subnets are listed, the SNAT NB has stays', () => {
    assert.deepEqual(egressSubnets([sw('gone', 'ovn-cluster', '10.73.0.0/24')], natOutgoingOf(true, () => undefined, () => true)).map((s) => s.natOutgoing), [false]);
    const unsynced = natOutgoingOf(false, (n) => subnets[n], (cidr) => cidr === '10.71.0.0/24');
    assert.deepEqual(egressSubnets(switches, unsynced).map((s) => [s.name, s.natOutgoing]), [['off', true], ['on', false]]);
  });

  const input: TopologyInput = {
    node: 'n1', chassis: 'c1', bridge: 'breth0', gwMac: '02:00:00:00:00:01', physicalIp: '192.168.1.10', physicalPrefix: 24, defaultGw: '192.168.1.1',
    clusterSubnet: '10.244.0.0/16', nodeSubnet: '10.244.3.0/24', joinIp: '100.64.0.4', joinPrefix: 16, clusterJoinIp: '100.64.0.1', physicalNetwork: 'physnet', egress: DEFAULT_EGRESS,
  };

  it('GR_<node>: a route back to every Subnet, SNAT for natOutgoing ones; ovn_cluster_router: its default route via this GR (ECMP with the others)', () => {
    const t = gatewayTopology({ ...input, subnets: [{ name: 'off', cidr: '10.71.0.0/24', natOutgoing: false }, { name: 'on', cidr: '10.70.0.0/24', natOutgoing: true }] });
    assert.deepEqual(t.routes.map(routeKey).slice(2), ['dst-ip 10.71.0.0/24 via 100.64.0.1', 'dst-ip 10.70.0.0/24 via 100.64.0.1']);
    assert.deepEqual(t.nats.map(natKey), ['snat 10.244.0.0/16 -> 192.168.1.10', 'snat 10.70.0.0/24 -> 192.168.1.10']);
    assert.deepEqual(t.clusterRoutes.map(routeKey), ['dst-ip 0.0.0.0/0 via 100.64.0.4', 'src-ip 10.244.3.0/24 via 100.64.0.4', 'dst-ip 100.64.0.4/32 via 100.64.0.4']);
    const none = gatewayTopology(input);
    assert.ok(!none.clusterRoutes.some((r) => r.ip_prefix === '0.0.0.0/0'), 'no Subnets: no default route on the cluster router');
  });

  it('the bridge hands traffic for non-SNATed Subnets to the GR', () => {
    const f = bridgeFlows({ mode: 'shared', nicOfport: 1, patchOfport: 3, hostIp: '192.168.1.10', external: { nodePorts: [], vips: [] }, routedCidrs: ['10.71.0.0/24'] });
    assert.ok(f.some((x) => x.endsWith('table=0,priority=90,in_port=1,ip,nw_dst=10.71.0.0/24,actions=output:3')), f.join('\n'));
  });
});
