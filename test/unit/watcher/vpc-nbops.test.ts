// watcher/vpc/nb-ops.ts against a cache: a Vpc's routes and policies converge by diff, and only its own rows on a
// shared router (ovn_cluster_router also carries the gateway's) are touched.
import assert from 'node:assert/strict';
import { Txn } from '../../../lib/ovn/txn.js';
import { cacheWith, ours, U } from '../ovn/cache-with.js';
import { ensureVpc, deleteVpc } from '../../../watcher/vpc/nb-ops.js';
import { vpcRows } from '../../../watcher/vpc/translate.js';

describe('Vpc NB operations', () => {
  const cache = cacheWith({
    Logical_Router_Static_Route: [
      { _uuid: U(11), ip_prefix: '10.244.1.0/24', nexthop: '100.64.0.2', policy: 'src-ip', external_ids: ours('gateway', 'node1') },
      { _uuid: U(12), ip_prefix: '192.0.2.0/24', nexthop: '100.64.0.9', policy: 'dst-ip', external_ids: ours('vpc', 'ovn-cluster') },
      { _uuid: U(13), ip_prefix: '198.51.100.0/24', nexthop: '100.64.0.9', policy: 'dst-ip', external_ids: ours('vpc', 'ovn-cluster') },
    ],
    Logical_Router_Policy: [{ _uuid: U(21), priority: 1004, match: 'ip4.src == 10.244.1.0/24', action: 'reroute', nexthops: ['10.244.1.2'], external_ids: ours('gateway', 'node1') }],
    Logical_Router: [{ _uuid: U(1), name: 'ovn_cluster_router', static_routes: [U(11), U(12), U(13)], policies: [U(21)], external_ids: ours('cluster', 'ovn_cluster_router') }],
  });

  it('adds the missing route, drops its own stale one, keeps the matching one and every row of others', () => {
    const txn = new Txn(cache);
    ensureVpc(txn, 'ovn-cluster', vpcRows({ metadata: { name: 'ovn-cluster' }, spec: { staticRoutes: [{ cidr: '192.0.2.0/24', nextHopIP: '100.64.0.9' }, { cidr: '203.0.113.0/24', nextHopIP: '100.64.0.9' }] } }));
    const summary = txn.ops.map((o) => (o.op === 'mutate' ? `mutate ${JSON.stringify(o.mutations)}` : `${o.op} ${o.table}`));
    assert.equal(summary.length, 3, summary.join('\n'));
    assert.ok(summary.some((s) => /static_routes","delete",\["00000000-0000-0000-0000-000000000013"\]/.test(s)), 'the stale route goes');
    assert.ok(summary.some((s) => /static_routes","insert"/.test(s)), 'the new route is referenced');
    const inserts = txn.ops.filter((o) => o.op === 'insert') as unknown as Array<{ table: string; row: { ip_prefix: string } }>;
    assert.deepEqual(inserts.map((o) => [o.table, o.row.ip_prefix]), [['Logical_Router_Static_Route', '203.0.113.0/24']]);
  });

  it('writes nothing when in place, and deleting the default Vpc removes only its rows', () => {
    const same = new Txn(cache);
    ensureVpc(same, 'ovn-cluster', vpcRows({ metadata: { name: 'ovn-cluster' }, spec: { staticRoutes: [{ cidr: '192.0.2.0/24', nextHopIP: '100.64.0.9' }, { cidr: '198.51.100.0/24', nextHopIP: '100.64.0.9' }] } }));
    assert.equal(same.ops.length, 0);
    const del = new Txn(cache);
    deleteVpc(del, 'ovn-cluster', 'ovn_cluster_router', false);
    const dropped = del.ops.map((o) => JSON.stringify(o)).sort();
    assert.equal(dropped.length, 2);
    assert.match(dropped[0], /"static_routes","delete",\["00000000-0000-0000-0000-000000000012"\]/);
    assert.match(dropped[1], /"static_routes","delete",\["00000000-0000-0000-0000-000000000013"\]/);
  });
});
