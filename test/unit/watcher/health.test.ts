import assert from 'node:assert/strict';
import { watcherNotReady, type WatcherHealth } from '../../../watcher/health.js';

describe('watcher readiness', () => {
  const h = (o: Partial<Record<'leading' | 'nb' | 'synced' | 'started', boolean>>): WatcherHealth => ({
    leading: () => o.leading ?? true,
    nbConnected: () => o.nb ?? true,
    informersSynced: () => o.synced ?? true,
    started: () => o.started ?? true,
    stats: () => ({}),
  });

  it('the leader needs NB, synced informers and master-init; the first missing one is named', () => {
    assert.equal(watcherNotReady(h({})), undefined);
    assert.equal(watcherNotReady(h({ nb: false, synced: false })), 'OVN Northbound database not connected');
    assert.equal(watcherNotReady(h({ synced: false, started: false })), 'informers not synced');
    assert.equal(watcherNotReady(h({ started: false })), 'master-init and controllers not started');
  });

  it('a standby is ready when it could take over: NB connected (its informers start on takeover)', () => {
    assert.equal(watcherNotReady(h({ leading: false, synced: false, started: false })), undefined);
    assert.equal(watcherNotReady(h({ leading: false, nb: false })), 'OVN Northbound database not connected');
  });
});
