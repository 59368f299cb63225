// Two replicas over one Lease: only the leader writes; kill -9 the leader and the other takes over.
import assert from 'node:assert/strict';
import { useWatcherFixture, until, sleep } from './fixture.js';
import { findResource } from '../../../kube-double/resources.js';

const leaseRt = findResource('coordination.k8s.io', 'v1', 'leases')!;

describe('watcher: leader election over a Lease (two replicas)', function () {
  this.timeout(120000);
  const f = useWatcherFixture();

  const holder = (): string | undefined => {
    try {
      return (f.store.get(leaseRt, 'kube-system', 'tessera-watcher').spec as { holderIdentity?: string }).holderIdentity;
    } catch {
      return undefined;
    }
  };

  it('only the leader runs controllers; the standby takes over after kill -9', async () => {
    const a = f.startWatcher(['--identity', 'replica-a', '--lease-duration', '3']);
    const b = f.startWatcher(['--identity', 'replica-b', '--lease-duration', '3']);
    const first = await until(() => holder(), 40000, 'a Lease holder');
    const [leader, standby] = first === 'replica-a' ? [a, b] : [b, a];
    f.pod('default', 'p1', 'n1');
    await until(() => f.podNetwork('default', 'p1'), 30000, 'p1 annotated by the leader');
    await until(() => /leader is replica-/.test(standby.log()), 20000, 'standby saw the leader');
    assert.doesNotMatch(standby.log(), /became leader/);
    assert.doesNotMatch(standby.log(), /master-init/, 'the standby wrote nothing');
    await leader.kill('SIGKILL');
    const second = await until(() => holder() !== first && holder(), 30000, 'the standby to take the Lease');
    assert.notEqual(second, first);
    f.pod('default', 'p2', 'n1');
    const net = await until(() => f.podNetwork('default', 'p2'), 30000, 'p2 annotated by the new leader');
    assert.notEqual(net.ip_addresses[0], f.podNetwork('default', 'p1')!.ip_addresses[0]);
    assert.match(standby.log(), /became leader/);
    await sleep(100);
  });
});
