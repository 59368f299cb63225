import assert from 'node:assert/strict';
import { gatewayTopology, natKey, routeKey, type TopologyInput } from '../../../gateway/topology.js';
import { DEFAULT_EGRESS } from '../../../gateway/egress-nat.js';
import { GATEWAY_NODE_KEY, GATEWAY_OWNER } from '../../../lib/ovn/names.js';
import { OWNER_KEY } from '../../../lib/ovn/names.js';

const input: TopologyInput = {
  node: 'n1', chassis: 'chassis-n1', bridge: 'breth0', gwMac: '02:00:00:00:00:01',
  physicalIp: '192.168.1.10', physicalPrefix: 24, defaultGw: '192.168.1.1',
  clusterSubnet: '10.244.0.0/16', nodeSubnet: '10.244.3.0/24', joinIp: '100.64.0.4', joinPrefix: 16, clusterJoinIp: '100.64.0.1',
  physicalNetwork: 'physnet', egress: DEFAULT_EGRESS,
};

describe('gateway topology', () => {
  const t = gatewayTopology(input);

  it('binds GR_<node> to the chassis and forces LB SNAT to the router IP', () => {
    assert.equal(t.router.name, 'GR_n1');
    assert.equal(t.router.options.chassis, 'chassis-n1');
    assert.equal(t.router.options.lb_force_snat_ip, 'router_ip');
    assert.equal(t.router.external_ids['tessera.io/join-ip'], '100.64.0.4');
  });

  it('links the GR to join (MAC from the join IP) and to ext_<node> with the physical IP', () => {
    assert.deepEqual(t.routerPorts.map((p) => [p.name, p.mac, p.networks]), [
      ['rtoj-GR_n1', '0a:58:64:40:00:04', ['100.64.0.4/16']],
      ['rtoe-GR_n1', '02:00:00:00:00:01', ['192.168.1.10/24']],
    ]);
    const localnet = t.switchPorts.find((p) => p.type === 'localnet');
    assert.deepEqual([localnet?.switch, localnet?.name, localnet?.options.network_name, localnet?.addresses], ['ext_n1', 'breth0_n1', 'physnet', ['unknown']]);
    assert.deepEqual(t.switchPorts.filter((p) => p.type === 'router').map((p) => [p.switch, p.name, p.options['router-port']]), [
      ['join', 'jtor-GR_n1', 'rtoj-GR_n1'],
      ['ext_n1', 'etor-GR_n1', 'rtoe-GR_n1'],
    ]);
  });

  it('routes: default via the gateway on the external port, cluster back via the cluster router, node subnet src-ip to the GR', () => {
    assert.deepEqual(t.routes.map(routeKey), ['dst-ip 0.0.0.0/0 via 192.168.1.1 out rtoe-GR_n1', 'dst-ip 10.244.0.0/16 via 100.64.0.1']);
    assert.deepEqual(t.clusterRoutes.map(routeKey), ['src-ip 10.244.3.0/24 via 100.64.0.4', 'dst-ip 100.64.0.4/32 via 100.64.0.4']);
  });

  it('SNATs the cluster CIDR to the physical IP', () => {
    assert.deepEqual(t.nats.map(natKey), ['snat 10.244.0.0/16 -> 192.168.1.10']);
  });

  it("reroutes this node's pods (not its management port) to the host's own IP through the management port", () => {
    const shared = gatewayTopology({ ...input, nodeIp: '192.168.1.10' });
    assert.deepEqual(shared.clusterPolicies.map((p) => [p.priority, p.match, p.action, p.nexthops]), [
      [1004, 'ip4.src == 10.244.3.0/24 && ip4.src != 10.244.3.2 && ip4.dst == 192.168.1.10', 'reroute', ['10.244.3.2']],
    ]);
    assert.deepEqual(t.clusterPolicies, [], 'no node IP (dedicated NIC without --node-ip): no policy');
  });

  it('tags every row with owner and node', () => {
    const all = [t.router, t.extSwitch, ...t.routerPorts, ...t.switchPorts, ...t.routes, ...t.nats, ...t.clusterRoutes,
      ...gatewayTopology({ ...input, nodeIp: '192.168.1.10' }).clusterPolicies];
    for (const r of all) {
      assert.equal(r.external_ids[OWNER_KEY], GATEWAY_OWNER);
      assert.equal(r.external_ids[GATEWAY_NODE_KEY], 'n1');
    }
  });
});

describe('gateway NB change filter', () => {
  it('reacts to its own rows and the shared topology, not to pod churn', async () => {
    const { relevantToGateway } = await import('../../../gateway/nb.js');
    const mine = { [OWNER_KEY]: GATEWAY_OWNER, [GATEWAY_NODE_KEY]: 'n1' };
    assert.ok(relevantToGateway({ table: 'Logical_Router', row: { name: 'GR_n1' } }, 'n1'));
    assert.ok(relevantToGateway({ table: 'Logical_Switch', row: { name: 'join' } }, 'n1'));
    assert.ok(relevantToGateway({ table: 'Logical_Switch_Port', row: { name: 'etor-GR_n1', external_ids: mine } }, 'n1'));
    assert.ok(!relevantToGateway({ table: 'Logical_Switch_Port', row: { name: 'default_web-1', external_ids: {} } }, 'n1'));
    assert.ok(!relevantToGateway({ table: 'Logical_Router', row: { name: 'GR_n2' } }, 'n1'));
    assert.ok(!relevantToGateway({ table: 'Load_Balancer', row: { name: 'tessera_svc_x', external_ids: {} } }, 'n1'));
  });
});
