// A 3-member Raft cluster: the client settles on the leader and follows it when the leader dies.
import assert from 'node:assert/strict';
import { OvsdbClient, ref } from '../../../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../../../lib/ovsdb/models/nb.js';
import { startOvsdbCluster, type OvsdbCluster } from '../../../testkit/ovsdb-server.js';
import { EventMirror, assertCacheMatchesServer, until } from './helpers.js';

describe('ovsdb client on a Raft cluster', function () {
  this.timeout(90000);
  let cluster: OvsdbCluster;
  const clients: OvsdbClient<NBTables>[] = [];

  before(async () => {
    cluster = await startOvsdbCluster(3);
  });
  after(async () => {
    for (const c of clients) c.close();
    await cluster?.cleanup();
  });

  it('connects to the leader, whatever the order of remotes', async () => {
    const leader = await cluster.leaderIndex();
    // Put a follower first.
    const remotes = [...cluster.unixRemotes.slice(leader + 1), ...cluster.unixRemotes.slice(0, leader + 1)];
    assert.notEqual(remotes[0], cluster.unixRemotes[leader]);
    const nb = await OvsdbClient.connect(NB_MODEL, { remotes, reconnect: { minMs: 50, maxMs: 200 } });
    clients.push(nb);
    assert.equal(nb.remote, cluster.unixRemotes[leader]);
  });

  it('with leaderOnly false, stays on the first member even if it is a follower', async () => {
    const leader = await cluster.leaderIndex();
    const follower = (leader + 1) % 3;
    const nb = await OvsdbClient.connect(NB_MODEL, { remotes: [cluster.unixRemotes[follower]!, cluster.unixRemotes[leader]!], leaderOnly: false });
    clients.push(nb);
    assert.equal(nb.remote, cluster.unixRemotes[follower]);
    const [r] = await nb.transact([nb.op.select('Logical_Switch', [])]);
    assert.ok(Array.isArray(r.rows));
  });

  it('moves to the new leader when the leader is killed, and resyncs its cache', async () => {
    const nb = await OvsdbClient.connect(NB_MODEL, { remotes: cluster.unixRemotes, reconnect: { minMs: 50, maxMs: 300 }, probeIntervalMs: 1000 });
    clients.push(nb);
    const mirror = new EventMirror(nb);
    await nb.monitor(['Logical_Switch', 'Logical_Switch_Port']);
    await nb.transact([nb.op.insert('Logical_Switch', { name: 'raft-sw', ports: [ref('p')] }), nb.op.insert('Logical_Switch_Port', { name: 'raft-p' }, 'p')]);
    await nb.waitFor('Logical_Switch_Port', (p) => p.name === 'raft-p', 5000);

    const oldLeader = await cluster.leaderIndex();
    assert.equal(nb.remote, cluster.unixRemotes[oldLeader]);
    const resynced = new Promise<string>((r) => nb.once('resynced', r));
    await cluster.members[oldLeader]!.kill9();
    const newRemote = await resynced;
    const newLeader = await cluster.leaderIndex();
    assert.notEqual(newLeader, oldLeader);
    assert.equal(newRemote, cluster.unixRemotes[newLeader]);
    assert.equal(nb.remote, cluster.unixRemotes[newLeader]);

    // Writes work on the new leader and reach the cache; the cache equals the cluster's data.
    await nb.transact([nb.op.mutate('Logical_Switch_Port', [['name', '==', 'raft-p']], [['external_ids', 'insert', { after: 'failover' }]])]);
    await nb.waitFor('Logical_Switch_Port', (p) => p.external_ids.after === 'failover', 5000);
    await assertCacheMatchesServer(nb, nb, ['Logical_Switch', 'Logical_Switch_Port']);
    assert.equal(mirror.list('Logical_Switch_Port').length, nb.cache.size('Logical_Switch_Port'));
  });

  it('leaves a leader that leaves the cluster, and follows leadership to the remaining member', async () => {
    const nb = clients[clients.length - 1]!;
    const leader = await cluster.leaderIndex();
    assert.equal(nb.remote, cluster.unixRemotes[leader]);
    const disconnected = new Promise<Error>((r) => nb.once('disconnected', r));
    const m = cluster.members[leader]!;
    await m.run('ovs-appctl', ['-t', m.ctl, 'cluster/leave', cluster.dbName]);
    const reason = await disconnected;
    assert.match(reason.message, /not the leader|not connected|closed|removed/);
    await until(() => nb.connected, 20000, 'the client to find the remaining leader');
    const now = await cluster.leaderIndex();
    assert.notEqual(now, leader);
    assert.equal(nb.remote, cluster.unixRemotes[now]);
  });
});
