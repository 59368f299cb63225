// The vocabulary's router-side operations alone (no server): router children converged by identity, gateway chassis,
// NB_Global keys, port options, LB attachment. Each is a no-op when NB already matches (applying the same desired
// state twice writes nothing the second time) and touches only rows/keys its caller owns.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { NamedUuid } from '../../../lib/ovsdb/notation.js';
import { Txn, type NbOp } from '../../../lib/ovn/txn.js';
import { convergeNats, convergeRouterPolicies, convergeStaticRoutes, dropRoutesMarked, type StaticRouteSpec } from '../../../lib/ovn/router-children.js';
import { ensureRouterPort, deleteRouter } from '../../../lib/ovn/router.js';
import { setPortOptions } from '../../../lib/ovn/lsp.js';
import { attachLoadBalancer } from '../../../lib/ovn/load-balancer.js';
import { changeNbGlobal } from '../../../lib/ovn/nb-global.js';
import { gatewayIds, isGatewayOurs } from '../../../lib/ovn/names.js';
import { toOps } from '../../../lib/ovn/commit.js';
import { cacheWith } from './cache-with.js';

const kinds = (ops: NbOp[]): string[] => ops.map((o) => `${o.op} ${o.table}`);
const mine = (ids: Record<string, string>): boolean => isGatewayOurs(ids, 'n1');

describe('lib/ovn router vocabulary', () => {
  const route = (over: Partial<StaticRouteSpec> = {}): StaticRouteSpec => ({ ip_prefix: '10.244.1.0/24', nexthop: '100.64.0.2', policy: 'src-ip', external_ids: gatewayIds('n1', 'return-route'), ...over });

  it('convergeStaticRoutes: inserts the missing, unreferences the unwanted, leaves others\' routes, then writes nothing', () => {
    const theirs = { _uuid: randomUUID(), ip_prefix: '0.0.0.0/0', nexthop: '1.1.1.1', external_ids: { owner: 'else' } };
    const stale = { _uuid: randomUUID(), ...route({ nexthop: '100.64.0.9' }) };
    const lr = { _uuid: randomUUID(), name: 'ovn_cluster_router', static_routes: [theirs._uuid, stale._uuid] };
    const t1 = new Txn(cacheWith({ Logical_Router: [lr], Logical_Router_Static_Route: [theirs, stale] }));
    convergeStaticRoutes(t1, lr._uuid, lr.static_routes, [route()], mine);
    assert.deepEqual(kinds(t1.ops), ['mutate Logical_Router', 'insert Logical_Router_Static_Route', 'mutate Logical_Router']);
    assert.deepEqual((t1.ops[0] as Extract<NbOp, { op: 'mutate' }>).mutations, [['static_routes', 'delete', [stale._uuid]]]);
    assert.deepEqual((t1.ops[1] as Extract<NbOp, { op: 'insert' }>).row, { ip_prefix: '10.244.1.0/24', nexthop: '100.64.0.2', policy: 'src-ip', external_ids: gatewayIds('n1', 'return-route') });
    assert.doesNotThrow(() => toOps(t1.ops));

    const have = { _uuid: randomUUID(), ...route() };
    const lr2 = { ...lr, static_routes: [theirs._uuid, have._uuid] };
    const c2 = cacheWith({ Logical_Router: [lr2], Logical_Router_Static_Route: [theirs, have] });
    const t2 = new Txn(c2);
    convergeStaticRoutes(t2, lr2._uuid, lr2.static_routes, [route()], mine);
    assert.deepEqual(t2.ops, [], 'the same desired state again: no write');
    const t3 = new Txn(c2);
    convergeStaticRoutes(t3, lr2._uuid, lr2.static_routes, [route({ external_ids: gatewayIds('n1', 'renamed') })], mine);
    assert.deepEqual(kinds(t3.ops), ['update Logical_Router_Static_Route'], 'external_ids drift is fixed in place, not by a new row');
    const t4 = new Txn(c2);
    convergeStaticRoutes(t4, lr2._uuid, lr2.static_routes, [], mine);
    assert.deepEqual((t4.ops[0] as Extract<NbOp, { op: 'mutate' }>).mutations, [['static_routes', 'delete', [have._uuid]]], 'only ours goes');
  });

  it('convergeNats and convergeRouterPolicies: same identity rules; a router inserted in the batch is referenced by name', () => {
    const t = new Txn(cacheWith({}));
    const gr = t.insert('Logical_Router', 'GR_n1', { name: 'GR_n1' });
    convergeNats(t, gr, [], [{ type: 'snat', logical_ip: '10.244.0.0/16', external_ip: '192.168.5.11', external_ids: gatewayIds('n1', 'egress-snat') }], mine);
    convergeRouterPolicies(t, gr, [], [{ priority: 1004, match: 'ip4.dst == 192.168.5.11', action: 'reroute', nexthops: ['10.244.1.2'], external_ids: gatewayIds('n1') }], mine);
    assert.deepEqual(kinds(t.ops), ['insert Logical_Router', 'insert NAT', 'mutate Logical_Router', 'insert Logical_Router_Policy', 'mutate Logical_Router']);
    assert.ok((t.ops[2] as Extract<NbOp, { op: 'mutate' }>).where[0]![2] instanceof NamedUuid);

    const nat = { _uuid: randomUUID(), type: 'snat', logical_ip: '10.244.0.0/16', external_ip: '192.168.5.11', external_ids: gatewayIds('n1', 'egress-snat') };
    const pol = { _uuid: randomUUID(), priority: 1004, match: 'ip4.dst == 192.168.5.11', action: 'reroute', nexthops: ['10.244.1.2'], external_ids: gatewayIds('n1') };
    const lr = { _uuid: randomUUID(), name: 'GR_n1', nat: [nat._uuid], policies: [pol._uuid] };
    const t2 = new Txn(cacheWith({ Logical_Router: [lr], NAT: [nat], Logical_Router_Policy: [pol] }));
    convergeNats(t2, lr._uuid, lr.nat, [{ ...nat, type: 'snat' }], mine);
    convergeRouterPolicies(t2, lr._uuid, lr.policies, [{ ...pol, action: 'reroute' }], mine);
    assert.deepEqual(t2.ops, []);
  });

  it('dropRoutesMarked unreferences only the routes carrying the key', () => {
    const learned = { _uuid: randomUUID(), ip_prefix: '10.245.0.0/24', nexthop: '169.254.100.2', external_ids: { 'ic-learned-route': 'x' } };
    const own = { _uuid: randomUUID(), ip_prefix: '10.0.0.0/8', nexthop: '1.1.1.1', external_ids: {} };
    const lr = { _uuid: randomUUID(), name: 'ovn_cluster_router', static_routes: [learned._uuid, own._uuid] };
    const c = cacheWith({ Logical_Router: [lr], Logical_Router_Static_Route: [learned, own] });
    const t = new Txn(c);
    dropRoutesMarked(t, c.get('Logical_Router', lr._uuid), 'ic-learned-route');
    assert.deepEqual(t.ops, [{ op: 'mutate', table: 'Logical_Router', where: [['_uuid', '==', lr._uuid]], mutations: [['static_routes', 'delete', [learned._uuid]]] }]);
  });

  it('ensureRouterPort with gateway chassis: inserted with the port, replaced only when they differ', () => {
    const lr = { _uuid: randomUUID(), name: 'ovn_cluster_router', ports: [] as string[] };
    const gws = [{ name: 'az1-ts-ch1', chassis_name: 'ch1', priority: 100, external_ids: {} }, { name: 'az1-ts-ch2', chassis_name: 'ch2', priority: 99, external_ids: {} }];
    const spec = { name: 'az1-ts', mac: '0a:58:a9:fe:64:05', networks: ['169.254.100.5/24'], external_ids: {}, gateway_chassis: gws };
    const t1 = new Txn(cacheWith({ Logical_Router: [lr] }));
    ensureRouterPort(t1, 'ovn_cluster_router', spec);
    assert.deepEqual(kinds(t1.ops), ['insert Gateway_Chassis', 'insert Gateway_Chassis', 'insert Logical_Router_Port', 'mutate Logical_Router']);
    assert.equal(((t1.ops[2] as Extract<NbOp, { op: 'insert' }>).row.gateway_chassis as unknown[]).length, 2);

    const g1 = { _uuid: randomUUID(), ...gws[0] };
    const g2 = { _uuid: randomUUID(), ...gws[1] };
    const lrp = { _uuid: randomUUID(), ...spec, gateway_chassis: [g1._uuid, g2._uuid] };
    const c = cacheWith({ Logical_Router: [{ ...lr, ports: [lrp._uuid] }], Logical_Router_Port: [lrp], Gateway_Chassis: [g1, g2] });
    const t2 = new Txn(c);
    ensureRouterPort(t2, 'ovn_cluster_router', spec);
    assert.deepEqual(t2.ops, [], 'same port, same gateways: nothing');
    const t3 = new Txn(c);
    ensureRouterPort(t3, 'ovn_cluster_router', { ...spec, gateway_chassis: [{ ...gws[1]!, priority: 100 }, { ...gws[0]!, priority: 99 }] });
    assert.deepEqual(kinds(t3.ops), ['insert Gateway_Chassis', 'insert Gateway_Chassis', 'update Logical_Router_Port'], 'new priorities: rows replaced by reference');
    const t4 = new Txn(c);
    ensureRouterPort(t4, 'ovn_cluster_router', { ...spec, gateway_chassis: undefined });
    assert.deepEqual(t4.ops, [], 'gateway_chassis undefined leaves them alone');
  });

  it('setPortOptions changes only the named keys (ovn-ic\'s requested-tnl-key stays)', () => {
    const lsp = { _uuid: randomUUID(), name: 'ts-az1', type: 'router', addresses: ['router'], options: { 'router-port': 'old', 'requested-tnl-key': '7' } };
    const c = cacheWith({ Logical_Switch_Port: [lsp] });
    const t = new Txn(c);
    setPortOptions(t, c.get('Logical_Switch_Port', lsp._uuid)!, { 'router-port': 'az1-ts' });
    assert.deepEqual(t.ops.map((o) => (o as Extract<NbOp, { op: 'mutate' }>).mutations), [[['options', 'delete', ['router-port']]], [['options', 'insert', { 'router-port': 'az1-ts' }]]]);
    const again = new Txn(c);
    setPortOptions(again, c.get('Logical_Switch_Port', lsp._uuid)!, { 'router-port': 'old' });
    assert.deepEqual(again.ops, []);
  });

  it('attachLoadBalancer skips an LB already attached; deleteRouter deletes by name', () => {
    const lb = randomUUID();
    const ls = { _uuid: randomUUID(), name: 'n1', load_balancer: [lb] };
    const c = cacheWith({ Logical_Switch: [ls], Logical_Router: [{ _uuid: randomUUID(), name: 'GR_n1' }] });
    const t = new Txn(c);
    attachLoadBalancer(t, 'Logical_Switch', c.get('Logical_Switch', ls._uuid)!, lb);
    assert.deepEqual(t.ops, []);
    attachLoadBalancer(t, 'Logical_Switch', c.get('Logical_Switch', ls._uuid)!, randomUUID());
    deleteRouter(t, 'GR_n1');
    assert.deepEqual(kinds(t.ops), ['mutate Logical_Switch', 'delete Logical_Router']);
  });

  it('changeNbGlobal deletes the keys it sets or drops before inserting (a map insert never overwrites), and writes nothing when in place', () => {
    const t = new Txn(cacheWith({}));
    changeNbGlobal(t, { name: 'az1', dropOptions: ['ic-route-adv', 'ic-route-blacklist'], setOptions: { 'ic-route-adv': 'true' }, setExternalIds: { k: 'v' } });
    assert.deepEqual(t.ops, [
      { op: 'update', table: 'NB_Global', where: [], row: { name: 'az1' } },
      { op: 'mutate', table: 'NB_Global', where: [], mutations: [['options', 'delete', ['ic-route-adv', 'ic-route-blacklist']], ['options', 'insert', { 'ic-route-adv': 'true' }]] },
      { op: 'mutate', table: 'NB_Global', where: [], mutations: [['external_ids', 'delete', ['k']], ['external_ids', 'insert', { k: 'v' }]] },
    ]);
    const none = new Txn(cacheWith({}));
    changeNbGlobal(none, {});
    assert.deepEqual(none.ops, []);
    const g = { _uuid: randomUUID(), name: 'az1', options: { 'ic-route-adv': 'true', mac_prefix: '0a:00:00' }, external_ids: { k: 'v' } };
    const same = new Txn(cacheWith({ NB_Global: [g] }));
    changeNbGlobal(same, { name: 'az1', dropOptions: ['ic-route-adv', 'ic-route-blacklist'], setOptions: { 'ic-route-adv': 'true' }, setExternalIds: { k: 'v' } });
    assert.deepEqual(same.ops, [], 'NB_Global already so: nothing');
    const drop = new Txn(cacheWith({ NB_Global: [g] }));
    changeNbGlobal(drop, { dropOptions: ['ic-route-adv'] });
    assert.deepEqual(drop.ops, [{ op: 'mutate', table: 'NB_Global', where: [], mutations: [['options', 'delete', ['ic-route-adv']]] }], 'a key to drop is still there');
  });
});
