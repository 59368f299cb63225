// Every transact operation against a real ovsdb-server (OVN NB schema).
import assert from 'node:assert/strict';
import { OvsdbClient, OvsdbTransactionError, OvsdbDisconnectedError, ref } from '../../../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../../../lib/ovsdb/models/nb.js';
import { startOvsdbServer, type OvsdbServer } from '../../../testkit/ovsdb-server.js';

function txError(e: unknown): OvsdbTransactionError {
  assert.ok(e instanceof OvsdbTransactionError, `expected OvsdbTransactionError, got ${String(e)}`);
  return e;
}

describe('ovsdb transact (real ovsdb-server)', function () {
  this.timeout(30000);
  let server: OvsdbServer;
  let nb: OvsdbClient<NBTables>;

  before(async () => {
    server = await startOvsdbServer({ tcp: true });
    nb = await OvsdbClient.connect(NB_MODEL, { remotes: [server.tcp], initialTimeoutMs: 5000 });
  });
  after(async () => {
    nb?.close();
    await server?.cleanup();
  });

  it('inserts rows referencing each other by named-uuid in one transaction, and selects them', async () => {
    const [sw, p1, p2] = await nb.transact([
      nb.op.insert('Logical_Switch', { name: 'sw-a', ports: [ref('p1'), ref('p2')], external_ids: { 'tessera.io/owner': 'test' } }),
      nb.op.insert('Logical_Switch_Port', { name: 'a-p1', addresses: ['0a:58:0a:f4:01:03 10.244.1.3'] }, 'p1'),
      nb.op.insert('Logical_Switch_Port', { name: 'a-p2', tag_request: 12 }, 'p2'),
    ]);
    const [sel] = await nb.transact([nb.op.select('Logical_Switch', [['_uuid', '==', sw.uuid]])]);
    assert.equal(sel.rows.length, 1);
    assert.deepEqual([...sel.rows[0]!.ports].sort(), [p1.uuid, p2.uuid].sort());
    assert.deepEqual(sel.rows[0]!.external_ids, { 'tessera.io/owner': 'test' });
    const [ports] = await nb.transact([nb.op.select('Logical_Switch_Port', [['name', 'includes', 'a-p2']], ['name', 'tag_request'])]);
    assert.deepEqual(ports.rows, [{ _uuid: p2.uuid, name: 'a-p2', tag_request: 12 }]);
  });

  it('updates and reports the count', async () => {
    const [u] = await nb.transact([nb.op.update('Logical_Switch_Port', [['name', '==', 'a-p1']], { enabled: false, type: 'router' })]);
    assert.equal(u.count, 1);
    const [none] = await nb.transact([nb.op.update('Logical_Switch_Port', [['name', '==', 'absent']], { enabled: false })]);
    assert.equal(none.count, 0);
    const [s] = await nb.transact([nb.op.select('Logical_Switch_Port', [['name', '==', 'a-p1']], ['enabled', 'type'])]);
    assert.equal(s.rows[0]!.enabled, false);
    assert.equal(s.rows[0]!.type, 'router');
  });

  it('mutates sets and maps (insert/delete) and integers', async () => {
    const where: ['name', '==', string][] = [['name', '==', 'a-p1']];
    await nb.transact([
      nb.op.mutate('Logical_Switch_Port', where, [
        ['addresses', 'insert', ['0a:58:0a:f4:01:04 10.244.1.4']],
        ['port_security', 'insert', 'ps1'],
        ['external_ids', 'insert', { a: '1', b: '2', c: '3' }],
        ['options', 'insert', { x: 'y' }],
      ]),
    ]);
    const [m] = await nb.transact([
      nb.op.mutate('Logical_Switch_Port', where, [
        ['addresses', 'delete', '0a:58:0a:f4:01:03 10.244.1.3'],
        ['external_ids', 'delete', ['a']],
        ['external_ids', 'delete', { b: '2', c: 'not-3' }],
      ]),
      nb.op.mutate('Logical_Switch_Port', [['name', '==', 'a-p2']], [['tag_request', '+=', 5]]),
    ]);
    assert.equal(m.count, 1);
    const [s] = await nb.transact([nb.op.select('Logical_Switch_Port', [['name', '==', 'a-p1']])]);
    const r = s.rows[0]!;
    assert.deepEqual(r.addresses, ['0a:58:0a:f4:01:04 10.244.1.4']);
    assert.deepEqual(r.port_security, ['ps1']);
    assert.deepEqual(r.external_ids, { c: '3' }, 'delete by key and by exact pair; a pair with another value stays');
    assert.deepEqual(r.options, { x: 'y' });
    const [t] = await nb.transact([nb.op.select('Logical_Switch_Port', [['name', '==', 'a-p2']], ['tag_request'])]);
    assert.equal(t.rows[0]!.tag_request, 17);
  });

  it('waits: a satisfied wait passes, an unsatisfiable one times out with an error', async () => {
    const [, sel] = await nb.transact([nb.op.wait('Logical_Switch', [['name', '==', 'sw-a']], ['name'], '==', [{ name: 'sw-a' }], 0), nb.op.select('Logical_Switch', [['name', '==', 'sw-a']], ['name'])]);
    assert.equal(sel.rows.length, 1);
    const t0 = Date.now();
    const e = txError(await nb.transact([nb.op.comment('before'), nb.op.wait('Logical_Switch', [['name', '==', 'sw-a']], ['name'], '==', [{ name: 'other' }], 200)]).catch((x: unknown) => x));
    assert.equal(e.opIndex, 1);
    assert.equal(e.op, 'wait');
    assert.equal(e.table, 'Logical_Switch');
    assert.equal(e.error, 'timed out');
    assert.ok(Date.now() - t0 >= 150, 'the server waited before timing out');
  });

  it('commit: non-durable succeeds; abort fails the transaction and applies nothing', async () => {
    await nb.transact([nb.op.insert('Logical_Switch', { name: 'sw-commit' }), nb.op.commit(false)]);
    const e = txError(await nb.transact([nb.op.insert('Logical_Switch', { name: 'sw-aborted' }), nb.op.abort()]).catch((x: unknown) => x));
    assert.equal(e.opIndex, 1);
    assert.equal(e.op, 'abort');
    assert.equal(e.error, 'aborted');
    const [s] = await nb.transact([nb.op.select('Logical_Switch', [['name', 'includes', 'sw-aborted']]), nb.op.select('Logical_Switch', [['name', '==', 'sw-commit']])] as const);
    assert.equal(s.rows.length, 0);
  });

  it('assert: fails when the lock is not held, passes once it is', async () => {
    const e = txError(await nb.transact([nb.op.assert('tessera_test_lock'), nb.op.insert('Logical_Switch', { name: 'sw-locked' })]).catch((x: unknown) => x));
    assert.equal(e.opIndex, 0);
    assert.equal(e.error, 'not owner');
    assert.equal(await nb.lock('tessera_test_lock'), true);
    await nb.transact([nb.op.assert('tessera_test_lock'), nb.op.insert('Logical_Switch', { name: 'sw-locked' })]);
    await nb.unlock('tessera_test_lock');
  });

  it('comment is accepted alongside other ops', async () => {
    const r = await nb.transact([nb.op.comment('tessera: test comment'), nb.op.select('Logical_Switch', [['name', '==', 'sw-a']], ['name'])]);
    assert.deepEqual(r[0], {});
    assert.equal(r[1].rows.length, 1);
  });

  it('deletes and reports the count', async () => {
    await nb.transact([nb.op.insert('Logical_Switch', { name: 'sw-del' }), nb.op.insert('Logical_Switch', { name: 'sw-del' })]);
    const [d] = await nb.transact([nb.op.delete('Logical_Switch', [['name', '==', 'sw-del']])]);
    assert.equal(d.count, 2);
  });

  it('a duplicate index value (Logical_Switch_Port name) fails the commit with the server details', async () => {
    // Ports are not root rows: the duplicate must be referenced by a switch, or it would be garbage collected.
    const e = txError(
      await nb
        .transact([nb.op.insert('Logical_Switch_Port', { name: 'a-p1' }, 'dup'), nb.op.mutate('Logical_Switch', [['name', '==', 'sw-a']], [['ports', 'insert', [ref('dup')]]])])
        .catch((x: unknown) => x),
    );
    assert.equal(e.opIndex, -1, 'index violations are found at commit');
    assert.equal(e.error, 'constraint violation');
    assert.match(e.details ?? '', /Logical_Switch_Port/);
    assert.match(e.message, /constraint violation/);
  });

  it('a value outside the schema enum fails the op that carries it, by index', async () => {
    const e = txError(
      await nb
        .transact([nb.op.comment('x'), nb.op.insert('ACL', { priority: 1000, direction: 'sideways' as 'to-lport', match: 'ip4', action: 'allow' })])
        .catch((x: unknown) => x),
    );
    assert.equal(e.opIndex, 1);
    assert.equal(e.op, 'insert');
    assert.equal(e.table, 'ACL');
    assert.equal(e.error, 'constraint violation');
    assert.match(e.message, /op 1 \(insert ACL\): constraint violation/);
  });

  it('a dangling strong reference fails with referential integrity violation', async () => {
    const e = txError(await nb.transact([nb.op.insert('Logical_Switch', { name: 'sw-bad', ports: ['0e1f5f9b-4c57-4ad8-9d39-7f1e6c9d1234'] })]).catch((x: unknown) => x));
    assert.equal(e.error, 'referential integrity violation');
  });

  it('rejects bad friendly values before sending, naming table and column', async () => {
    await assert.rejects(async () => nb.transact([nb.op.insert('Logical_Switch_Port', { name: 'x', tag_request: 'seven' as unknown as number })]), /Logical_Switch_Port\.tag_request: expected integer/);
  });

  it('rejects fast with OvsdbDisconnectedError once closed', async () => {
    const c = await OvsdbClient.connect(NB_MODEL, { remotes: server.unix });
    c.close();
    await assert.rejects(c.transact([c.op.select('Logical_Switch', [])]), OvsdbDisconnectedError);
  });
});
