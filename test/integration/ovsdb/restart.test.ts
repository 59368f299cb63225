// kill -9 of ovsdb-server in the middle of a stream of writes, restart on the same db file:
// the monitoring client reconnects, resyncs, and its cache (and the state rebuilt from its
// events) ends equal to the server's, with synthetic events for what changed while it was away.
import assert from 'node:assert/strict';
import { OvsdbClient, OvsdbDisconnectedError, ref } from '../../../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../../../lib/ovsdb/models/nb.js';
import { startOvsdbServer, type OvsdbServer } from '../../../testkit/ovsdb-server.js';
import { EventMirror, assertCacheMatchesServer, byUuid, sleep, until } from './helpers.js';

describe('ovsdb reconnect and resync after kill -9 of ovsdb-server', function () {
  this.timeout(60000);
  let server: OvsdbServer;
  let watcher: OvsdbClient<NBTables>;
  let writer: OvsdbClient<NBTables>;

  before(async () => {
    server = await startOvsdbServer({});
  });
  after(async () => {
    watcher?.close();
    writer?.close();
    await server?.cleanup();
  });

  it('reconnects, resyncs the cache and emits synthetic events', async () => {
    writer = await OvsdbClient.connect(NB_MODEL, { remotes: server.unix, reconnect: { minMs: 20, maxMs: 100 } });
    await writer.transact([
      writer.op.insert('Logical_Switch', { name: 'keep', external_ids: { v: '0' } }),
      writer.op.insert('Logical_Switch', { name: 'doomed' }),
      writer.op.insert('Logical_Switch', { name: 'stream', ports: [ref('p0')] }),
      writer.op.insert('Logical_Switch_Port', { name: 's-0' }, 'p0'),
    ]);
    // The watcher retries slowly, so the writer can change things while it is away.
    watcher = await OvsdbClient.connect(NB_MODEL, { remotes: server.unix, reconnect: { minMs: 3000, maxMs: 3000 }, probeIntervalMs: 1000 });
    const mirror = new EventMirror(watcher);
    await watcher.monitor(['Logical_Switch', 'Logical_Switch_Port']);
    const disconnected = new Promise<Error>((r) => watcher.once('disconnected', r));
    const resynced = new Promise<string>((r) => watcher.once('resynced', r));

    // A stream of writes, one transaction each, that keeps going through the crash.
    let stop = false;
    let ok = 0;
    let failed = 0;
    const stream = (async () => {
      for (let i = 1; !stop && i < 100000; i++) {
        try {
          await writer.transact([
            writer.op.insert('Logical_Switch_Port', { name: `s-${i}`, external_ids: { i: String(i) } }, 'p'),
            writer.op.mutate('Logical_Switch', [['name', '==', 'stream']], [['ports', 'insert', [ref('p')]]]),
          ]);
          ok++;
        } catch (e) {
          assert.ok(e instanceof OvsdbDisconnectedError || (e as Error).name === 'OvsdbTransactionError', `unexpected ${String(e)}`);
          failed++;
          await sleep(10);
        }
      }
    })();

    await until(() => ok >= 30, 10000, '30 streamed writes');
    await server.kill9();
    const reason = await disconnected;
    assert.match(reason.message, /closed|ECONNRESET|EPIPE/);
    const eventsBeforeResync = mirror.events.length;

    await server.start(); // same db file, same socket
    await until(() => writer.connected, 5000, 'the writer to reconnect');
    assert.equal(watcher.connected, false, 'the watcher is still waiting to retry');
    // Changes the watcher cannot see as they happen.
    await writer.transact([
      writer.op.update('Logical_Switch', [['name', '==', 'keep']], { external_ids: { v: '1' } }),
      writer.op.delete('Logical_Switch', [['name', '==', 'doomed']]),
      writer.op.insert('Logical_Switch', { name: 'born-while-away' }),
    ]);
    const okAtRestart = ok;
    await until(() => ok >= okAtRestart + 20, 10000, 'more streamed writes after the restart');

    await resynced;
    const synthetic = mirror.events.slice(eventsBeforeResync).map((e) => `${e.kind}:${e.table}:${(e.row as { name: string }).name}`);
    assert.ok(synthetic.includes('update:Logical_Switch:keep'), `synthetic update for keep in ${synthetic.join(' ')}`);
    assert.ok(synthetic.includes('delete:Logical_Switch:doomed'), 'synthetic delete for doomed');
    assert.ok(synthetic.includes('insert:Logical_Switch:born-while-away'), 'synthetic insert for born-while-away');
    assert.ok(synthetic.some((s) => s.startsWith('insert:Logical_Switch_Port:s-')), 'streamed ports written while away arrive as inserts');
    assert.deepEqual(watcher.cache.lookup('Logical_Switch', 'name', 'keep')?.external_ids, { v: '1' });

    // Keep streaming a little after the resync, then stop and compare with the server.
    const okAtResync = ok;
    await until(() => ok >= okAtResync + 10, 10000, 'writes after the resync');
    stop = true;
    await stream;
    await writer.transact([writer.op.insert('Logical_Switch', { name: 'marker' })]);
    await watcher.waitFor('Logical_Switch', (s) => s.name === 'marker', 5000);
    await assertCacheMatchesServer(watcher, writer, ['Logical_Switch', 'Logical_Switch_Port']);
    for (const t of ['Logical_Switch', 'Logical_Switch_Port'] as const) assert.deepEqual(byUuid(mirror.list(t)), byUuid(watcher.cache.list(t)), `events rebuild ${t}`);
    assert.ok(failed >= 1, 'some writes failed while the server was down');
    const [ports] = await writer.transact([writer.op.select('Logical_Switch_Port', [], ['name'])]);
    assert.ok(ports.rows.length >= ok, `every acknowledged write survived (${ports.rows.length} rows, ${ok} acknowledged)`);
  });
});
