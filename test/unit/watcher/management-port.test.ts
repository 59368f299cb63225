// The management port MAC a Node announces (node-writable input): which values the watcher takes, and the one
// port it writes from them (the real-server behaviour, with Events, is test/integration/watcher/management-port).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Cache } from '../../../lib/ovsdb/cache.js';
import { rowToWire } from '../../../lib/ovsdb/notation.js';
import { NB_MODEL, type NBTables } from '../../../lib/ovsdb/models/nb.js';
import { parseIP } from '../../../lib/ipnet/index.js';
import { NODE_MGMT_MAC_ANNOTATION } from '../../../lib/kube/annotations.js';
import { Txn } from '../../../lib/ovn/txn.js';
import { ensureManagementPort, managementMac } from '../../../watcher/controllers/management-port.js';

const MGMT = parseIP('10.244.1.2');
const podPortUuid = randomUUID();
const switchUuid = randomUUID();

function cache(): Cache<NBTables> {
  const c = new Cache<NBTables>(NB_MODEL);
  c.track('Logical_Switch', undefined);
  c.track('Logical_Switch_Port', undefined);
  c.applyUpdate2('Logical_Switch_Port', podPortUuid, { initial: rowToWire(NB_MODEL, 'Logical_Switch_Port', { name: 'default_web', addresses: ['02:00:00:00:07:07 10.244.1.7'] }) });
  c.applyUpdate2('Logical_Switch', switchUuid, { initial: rowToWire(NB_MODEL, 'Logical_Switch', { name: 'n1', ports: [podPortUuid] }) });
  return c;
}
const announced = (v: string | undefined) => managementMac('n1', v === undefined ? {} : { [NODE_MGMT_MAC_ANNOTATION]: v }, MGMT, cache());

describe('watcher: management port MAC from the Node', () => {
  it('takes the derived MAC of the management IP and any other free unicast MAC, lower-cased', () => {
    assert.deepEqual(announced('0a:58:0a:f4:01:02'), { mac: '0a:58:0a:f4:01:02' });
    assert.deepEqual(announced(' 02:00:00:AA:BB:01 '), { mac: '02:00:00:aa:bb:01' });
    assert.equal(announced(undefined), undefined, 'nothing announced yet');
  });

  const refused: Array<[string, RegExp]> = [
    ['02:00:00:00:00:09 10.244.9.9', /is not a MAC address/],
    ['02:00:00:00:00', /is not a MAC address/],
    ['', /is not a MAC address/],
    ['01:00:5e:00:00:01', /multicast or broadcast/],
    ['00:00:00:00:00:00', /all-zero/],
    ['0a:58:0a:f4:01:01', /derives from pod and router IPs \(the management IP's is 0a:58:0a:f4:01:02\)/],
    ['0a:58:0a:f4:01:07', /derives from pod and router IPs/],
    ['02:00:00:00:07:07', /already used by port default_web/],
  ];
  for (const [value, re] of refused) {
    it(`refuses ${JSON.stringify(value)} naming the annotation and why`, () => {
      const r = announced(value);
      assert.ok(r && 'problem' in r, `refused: ${JSON.stringify(r)}`);
      assert.match(r.problem, re);
      assert.ok(r.problem.startsWith(`${NODE_MGMT_MAC_ANNOTATION}=${JSON.stringify(value)} `), r.problem);
    });
  }

  it('quotes at most 64 characters of a long value', () => {
    const r = announced('a'.repeat(10_000));
    assert.ok(r && 'problem' in r);
    assert.ok(r.problem.length < 250, `${r.problem.length} characters`);
  });

  it("refuses any MAC while k8s-<node> is another writer's port (no owner ids), so the node's sync leaves it alone", () => {
    const c = cache();
    c.applyUpdate2('Logical_Switch_Port', randomUUID(), { initial: rowToWire(NB_MODEL, 'Logical_Switch_Port', { name: 'k8s-n1', addresses: ['02:00:00:00:00:05 10.244.1.2'] }) });
    const r = managementMac('n1', { [NODE_MGMT_MAC_ANNOTATION]: '0a:58:0a:f4:01:02' }, MGMT, c);
    assert.ok(r && 'problem' in r, `refused: ${JSON.stringify(r)}`);
    assert.match(r.problem, /k8s-n1 exists and is not Tessera's/);
  });

  it('writes k8s-<node> on the node switch as <mac> <.2>, owned by the node', () => {
    const txn = new Txn(cache(), 'test');
    ensureManagementPort(txn, 'n1', '02:00:00:aa:bb:01', MGMT);
    const insert = txn.ops.find((o) => o.op === 'insert');
    assert.ok(insert && insert.op === 'insert');
    assert.equal(insert.table, 'Logical_Switch_Port');
    assert.deepEqual(insert.row.addresses, ['02:00:00:aa:bb:01 10.244.1.2']);
    assert.equal(insert.row.name, 'k8s-n1');
    assert.deepEqual(insert.row.external_ids, { 'tessera.io/owner': 'tessera-watcher', 'tessera.io/kind': 'node', 'tessera.io/object': 'n1' });
    assert.ok(txn.ops.some((o) => o.op === 'mutate' && o.table === 'Logical_Switch'), 'attached to the switch');
  });
});
