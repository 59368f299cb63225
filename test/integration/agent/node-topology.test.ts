// Node init's NB half against a real NB ovsdb-server: create-if-absent, never rewrite the watcher's rows,
// refuse a conflicting subnet, and stay single under a concurrent creator.
import assert from 'node:assert/strict';
import { startOvsdbServer, type OvsdbServer } from '../../fixtures/ovsdb-server.js';
import { connectNb, ensureNodeTopology, nodeNet, type NbClient } from '../../../agent/node-init.js';
import { createLogger } from '../../../lib/log.js';
import { CLUSTER_ROUTER, OWNER_KEY } from '../../../lib/ovn/names.js';

const log = createLogger('test', { level: 'error' });

describe('agent node init: NB topology (real ovsdb-server)', function () {
  this.timeout(30_000);
  let srv: OvsdbServer;
  let nb: NbClient;

  before(async () => {
    srv = await startOvsdbServer();
    nb = await connectNb([srv.unix]);
    await nb.transact([nb.op.insert('Logical_Router', { name: CLUSTER_ROUTER })]);
  });
  after(async () => {
    nb?.close();
    await srv?.cleanup();
  });

  const lsps = (name: string) => nb.cache.filter('Logical_Switch_Port', (p) => p.name === name);

  it('creates the switch, the router link and the management LSP, with the watcher owner ids', async () => {
    await ensureNodeTopology(nb, 'node1', nodeNet('node1', '10.244.1.0/24'), log, 1000);
    const ls = nb.cache.lookup('Logical_Switch', 'name', 'node1');
    assert.ok(ls);
    assert.deepEqual(ls.other_config, { subnet: '10.244.1.0/24', exclude_ips: '10.244.1.1..10.244.1.2' });
    assert.equal(ls.external_ids[OWNER_KEY], 'tessera-watcher');
    assert.equal(ls.external_ids['tessera.io/subnet'], '10.244.1.0/24'); // the watcher rebuilds its IPAM from this
    const lrp = nb.cache.lookup('Logical_Router_Port', 'name', 'rtos-node1');
    assert.deepEqual([lrp?.mac, lrp?.networks], ['0a:58:0a:f4:01:01', ['10.244.1.1/24']]);
    assert.ok(nb.cache.lookup('Logical_Router', 'name', CLUSTER_ROUTER)?.ports.includes(lrp!._uuid));
    const stor = lsps('stor-node1')[0];
    assert.deepEqual([stor?.type, stor?.addresses, stor?.options], ['router', ['router'], { 'router-port': 'rtos-node1' }]);
    assert.deepEqual(lsps('k8s-node1')[0]?.addresses, ['0a:58:0a:f4:01:02 10.244.1.2']);
    assert.equal(ls.ports.length, 2);
  });

  it('is idempotent and leaves rows the watcher changed as they are', async () => {
    const ls = nb.cache.lookup('Logical_Switch', 'name', 'node1')!;
    await nb.transact([nb.op.update('Logical_Switch', [['_uuid', '==', ls._uuid]], { other_config: { subnet: '10.244.1.0/24', exclude_ips: '10.244.1.2' } })]);
    await ensureNodeTopology(nb, 'node1', nodeNet('node1', '10.244.1.0/24'), log, 1000);
    assert.equal(nb.cache.filter('Logical_Switch', (s) => s.name === 'node1').length, 1);
    assert.equal(nb.cache.lookup('Logical_Switch', 'name', 'node1')?.other_config.exclude_ips, '10.244.1.2');
    assert.equal(lsps('k8s-node1').length, 1);
    assert.equal(nb.cache.list('Logical_Router_Port').length, 1);
  });

  it('refuses a switch whose subnet contradicts the node annotation', async () => {
    await assert.rejects(ensureNodeTopology(nb, 'node1', nodeNet('node1', '10.244.9.0/24'), log, 1000), /logical switch node1 has subnet 10\.244\.1\.0\/24, but the node annotation says 10\.244\.9\.0\/24/);
  });

  it('two concurrent creators end with exactly one switch and one of each port', async () => {
    const other = await connectNb([srv.unix]);
    try {
      const n = nodeNet('node2', '10.244.2.0/24');
      await Promise.all([ensureNodeTopology(nb, 'node2', n, log, 1000), ensureNodeTopology(other, 'node2', n, log, 1000)]);
      await other.transact([other.op.comment('sync')]);
      assert.equal(nb.cache.filter('Logical_Switch', (s) => s.name === 'node2').length, 1);
      assert.equal(lsps('stor-node2').length, 1);
      assert.equal(lsps('k8s-node2').length, 1);
      assert.equal(nb.cache.filter('Logical_Router_Port', (p) => p.name === 'rtos-node2').length, 1);
    } finally {
      other.close();
    }
  });

  it('waits for the cluster router, bounded, with an error that says who should create it', async () => {
    const r = nb.cache.lookup('Logical_Router', 'name', CLUSTER_ROUTER)!;
    await nb.transact([nb.op.delete('Logical_Router', [['_uuid', '==', r._uuid]])]);
    await assert.rejects(ensureNodeTopology(nb, 'node3', nodeNet('node3', '10.244.3.0/24'), log, 300), /ovn_cluster_router did not appear within 300 ms \(has the watcher run master-init\?\)/);
  });
});
