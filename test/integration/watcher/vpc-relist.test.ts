// tessera-watcher's Vpc/Subnet controller when its watches restart: the API drops every watch and compacts its
// history past the watchers' resourceVersions, so each informer gets 410 Gone and lists again. A relist runs a
// full Vpc/Subnet reconcile (not only the changes the relist reports): what changed in the gap converges at
// once, not at the next periodic pass (10 minutes).
import assert from 'node:assert/strict';
import { WatcherFixture, until } from './fixture.js';
import { findResource, type KubeObject } from '../../../kube-double/resources.js';

const VPC = findResource('kubeovn.io', 'v1', 'vpcs')!;
const SUBNET = findResource('kubeovn.io', 'v1', 'subnets')!;
const CONFIGMAP = findResource('', 'v1', 'configmaps')!;
type Cond = { type: string; status: string; reason?: string };

describe('watcher: Vpc and Subnet reconcile after a watch restart (410 Gone, relist)', function () {
  this.timeout(120000);
  const f = new WatcherFixture();
  const get = (rt: typeof VPC, name: string): (KubeObject & { status?: { conditions?: Cond[]; router?: string } }) | undefined => {
    try {
      return f.store.get(rt, undefined, name) as KubeObject & { status?: { conditions?: Cond[]; router?: string } };
    } catch {
      return undefined;
    }
  };
  const ready = (name: string) => until(() => get(SUBNET, name)?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), 20000, `Subnet ${name} Ready`);
  const subnet = (name: string, spec: Record<string, unknown>) => f.store.create(SUBNET, undefined, { apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name }, spec });

  before(async () => {
    await f.start();
    f.node('n1');
    f.startWatcher();
  });
  after(async () => {
    await f.stop();
  });

  it('a Subnet deleted, a Subnet created and the default join Subnet deleted during the gap converge right after the relist', async () => {
    const w = f.procs[0]!;
    await until(() => get(VPC, 'ovn-cluster')?.status?.router, 20000, 'ovn-cluster status');
    f.store.create(VPC, undefined, { apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name: 'vr' }, spec: {} });
    subnet('keep', { vpc: 'vr', cidrBlock: '10.90.0.0/24' });
    subnet('gone', { vpc: 'vr', cidrBlock: '10.91.0.0/24' });
    await ready('keep');
    await ready('gone');
    await until(() => /reconcile \(start\) done/.test(w.log()), 20000, 'start reconcile done');
    assert.ok(f.ls('gone') && get(SUBNET, 'join'));

    // Synchronously, before any watcher reconnects: drop the watches, change things, then push the history
    // (10000 events) past every resourceVersion the watchers hold.
    f.api.dropWatches();
    f.store.patch(SUBNET, undefined, 'gone', 'merge', { metadata: { finalizers: null } });
    f.store.delete(SUBNET, undefined, 'gone', {});
    f.store.delete(SUBNET, undefined, 'join', {});
    subnet('late', { vpc: 'vr', cidrBlock: '10.92.0.0/24' });
    for (let i = 0; i < 10001; i++) f.store.create(CONFIGMAP, 'default', { metadata: { name: `fill-${i}` } });

    await until(() => !f.ls('gone') && !f.nb.cache.lookup('Logical_Router_Port', 'name', 'vr-gone'), 20000, "the deleted Subnet's switch and router port gone");
    await ready('late');
    assert.ok(f.ls('late'));
    // Only a full reconcile recreates the default objects: a delete event alone does not (and the periodic pass is 10 minutes away).
    const join = await until(() => get(SUBNET, 'join'), 15000, 'join recreated by the reconcile after the relist').catch((e: Error) => {
      process.stderr.write(w.log().split('\n').slice(-30).join('\n'));
      throw e;
    });
    assert.equal((join.spec as { cidrBlock?: string }).cidrBlock, '100.64.0.0/16');
    assert.ok(f.ls('keep'), 'what did not change stays');
    assert.match(w.log(), /vpc: subnets listed again \(watch restarted\): reconciling every Vpc and Subnet/);
  });
});
