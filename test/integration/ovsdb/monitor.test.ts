// monitor_cond into the typed cache, with other writers (ovn-nbctl and a second client).
import assert from 'node:assert/strict';
import { OvsdbClient, OvsdbTimeoutError, ref } from '../../../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables, type LogicalSwitchPort } from '../../../lib/ovsdb/models/nb.js';
import { startOvsdbServer, spawnOut, ovsEnv, type OvsdbServer } from '../../../testkit/ovsdb-server.js';
import { EventMirror, assertCacheMatchesServer, byUuid, until } from './helpers.js';

describe('ovsdb monitor and cache (real ovsdb-server)', function () {
  this.timeout(60000);
  let server: OvsdbServer;
  let watcher: OvsdbClient<NBTables>;
  let writer: OvsdbClient<NBTables>;
  let mirror: EventMirror;
  const nbctl = (...args: string[]): Promise<string> => spawnOut('ovn-nbctl', [`--db=${server.unix}`, ...args], ovsEnv(server.dir));

  before(async () => {
    server = await startOvsdbServer({});
    writer = await OvsdbClient.connect(NB_MODEL, { remotes: server.unix });
    // Rows that exist before the monitor starts arrive as initial inserts.
    await writer.transact([writer.op.insert('Logical_Switch', { name: 'pre', ports: [ref('p')] }), writer.op.insert('Logical_Switch_Port', { name: 'pre-p', addresses: ['a'] }, 'p')]);
    watcher = await OvsdbClient.connect(NB_MODEL, { remotes: server.unix });
    mirror = new EventMirror(watcher);
    await watcher.monitor(['Logical_Switch', 'Logical_Switch_Port']);
  });
  after(async () => {
    watcher?.close();
    writer?.close();
    await server?.cleanup();
  });

  it('loads existing rows and emits them as inserts', () => {
    assert.equal(watcher.cache.lookup('Logical_Switch', 'name', 'pre')?.ports.length, 1);
    assert.deepEqual(watcher.cache.lookup('Logical_Switch_Port', 'name', 'pre-p')?.addresses, ['a']);
    assert.deepEqual(mirror.events.map((e) => `${e.kind}:${e.table}`).sort(), ['insert:Logical_Switch', 'insert:Logical_Switch_Port']);
  });

  it('follows ovn-nbctl and a second client; cache and events end equal to the server', async () => {
    await nbctl('ls-add', 'sw1');
    await nbctl('lsp-add', 'sw1', 'sw1-p1');
    await nbctl('lsp-set-addresses', 'sw1-p1', '0a:58:0a:f4:01:03 10.244.1.3', '0a:58:0a:f4:01:04 10.244.1.4');
    await nbctl('set', 'Logical_Switch_Port', 'sw1-p1', 'external_ids:a=1', 'external_ids:b=2', 'options:requested-chassis=n1', 'tag_request=7');
    await nbctl('remove', 'Logical_Switch_Port', 'sw1-p1', 'external_ids', 'a');
    await nbctl('set', 'Logical_Switch_Port', 'sw1-p1', 'external_ids:b=3');
    await nbctl('lsp-set-addresses', 'sw1-p1', '0a:58:0a:f4:01:04 10.244.1.4', 'dynamic');
    await nbctl('clear', 'Logical_Switch_Port', 'sw1-p1', 'tag_request');
    for (let i = 0; i < 20; i++) {
      await writer.transact([
        writer.op.insert('Logical_Switch_Port', { name: `w-${i}`, external_ids: { i: String(i) } }, 'p'),
        writer.op.mutate('Logical_Switch', [['name', '==', 'pre']], [['ports', 'insert', [ref('p')]]]),
      ]);
    }
    await writer.transact([writer.op.mutate('Logical_Switch_Port', [['name', 'includes', 'w-3']], [['external_ids', 'insert', { extra: 'x' }]])]);
    await nbctl('lsp-del', 'w-5');
    await nbctl('ls-add', 'sw-last');
    await watcher.waitFor('Logical_Switch', (s) => s.name === 'sw-last', 5000);
    const p1 = watcher.cache.lookup('Logical_Switch_Port', 'name', 'sw1-p1')!;
    assert.deepEqual(p1.external_ids, { b: '3' });
    assert.deepEqual(p1.options, { 'requested-chassis': 'n1' });
    assert.equal(p1.tag_request, undefined);
    assert.deepEqual([...p1.addresses].sort(), ['0a:58:0a:f4:01:04 10.244.1.4', 'dynamic']);
    assert.equal(watcher.cache.lookup('Logical_Switch_Port', 'name', 'w-5'), undefined);
    await assertCacheMatchesServer(watcher, writer, ['Logical_Switch', 'Logical_Switch_Port']);
    for (const t of ['Logical_Switch', 'Logical_Switch_Port'] as const) assert.deepEqual(byUuid(mirror.list(t)), byUuid(watcher.cache.list(t)), `events rebuild ${t}`);
  });

  it('update events carry the old row', async () => {
    const seen: { old?: LogicalSwitchPort; row: LogicalSwitchPort }[] = [];
    const l = (ev: (typeof mirror.events)[number]): void => {
      if (ev.table === 'Logical_Switch_Port' && ev.kind === 'update' && ev.row.name === 'w-1') seen.push({ old: ev.old, row: ev.row });
    };
    watcher.on('change', l);
    await writer.transact([writer.op.update('Logical_Switch_Port', [['name', '==', 'w-1']], { enabled: true })]);
    await until(() => seen.length > 0, 5000, 'update event');
    watcher.off('change', l);
    assert.equal(seen[0]!.old?.enabled, undefined);
    assert.equal(seen[0]!.row.enabled, true);
  });

  it('monitor_cond with columns and where keeps only matching rows, following changes in and out of the condition', async () => {
    const c = await OvsdbClient.connect(NB_MODEL, { remotes: server.unix });
    try {
      await c.monitor({ Logical_Switch_Port: { columns: ['name', 'external_ids'], where: [['external_ids', 'includes', { extra: 'x' }]] } });
      assert.deepEqual(c.cache.list('Logical_Switch_Port').map((r) => r.name), ['w-3']);
      assert.deepEqual(Object.keys(c.cache.list('Logical_Switch_Port')[0]!).sort(), ['_uuid', 'external_ids', 'name']);
      await writer.transact([writer.op.mutate('Logical_Switch_Port', [['name', '==', 'w-4']], [['external_ids', 'insert', { extra: 'x' }]])]);
      await c.waitFor('Logical_Switch_Port', (r) => r.name === 'w-4', 5000);
      await writer.transact([writer.op.mutate('Logical_Switch_Port', [['name', '==', 'w-3']], [['external_ids', 'delete', ['extra']]])]);
      await until(() => c.cache.lookup('Logical_Switch_Port', 'name', 'w-3') === undefined, 5000, 'w-3 to leave the condition');
      assert.deepEqual(c.cache.list('Logical_Switch_Port').map((r) => r.name), ['w-4']);
    } finally {
      c.close();
    }
  });

  it('waitFor resolves on a later row and rejects on timeout', async () => {
    const later = watcher.waitFor('Logical_Switch', (s) => s.name === 'later', 5000);
    await nbctl('ls-add', 'later');
    assert.equal((await later).name, 'later');
    await assert.rejects(watcher.waitFor('Logical_Switch', (s) => s.name === 'never', 100), (e: Error) => e instanceof OvsdbTimeoutError && /waitFor Logical_Switch/.test(e.message));
  });

  it('refuses to monitor a table twice or an unknown column', async () => {
    await assert.rejects(watcher.monitor(['Logical_Switch']), /already monitored/);
    await assert.rejects(watcher.monitor({ ACL: { columns: ['nope' as 'name'] } }), /ACL has no column nope/);
  });
});
