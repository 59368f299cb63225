import assert from 'node:assert/strict';
import type { V1Namespace, V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { parseCommand } from '../../../lib/cli.js';
import { createLogger } from '../../../lib/log.js';
import { Cache } from '../../../lib/ovsdb/cache.js';
import { NB_MODEL, type NBTables } from '../../../lib/ovsdb/models/nb.js';
import { WATCHER_SPEC, loadConfig } from '../../../watcher/config.js';
import { newIpamState, type WatcherContext } from '../../../watcher/context.js';
import { IndexedStore } from '../../../watcher/informers.js';
import { POD_BY_NAMESPACE, POD_BY_PORT_NAME, POLICY_BY_NAMESPACE, type Stores } from '../../../watcher/kube-view.js';
import { PolicyController } from '../../../watcher/controllers/policies.js';
import { podInterest } from '../../../watcher/policy/translate.js';

const ns = (name: string, labels: Record<string, string>): V1Namespace => ({ metadata: { name, labels } });
const policy = (namespace: string, name: string, spec: V1NetworkPolicy['spec']): V1NetworkPolicy => ({ metadata: { namespace, name }, spec });

/** A PolicyController over real stores and an NB cache; `enqueued` collects the policy keys it re-enqueues. */
function controller(): { pc: PolicyController; stores: { namespaces: IndexedStore<V1Namespace>; policies: IndexedStore<V1NetworkPolicy> }; enqueued: string[] } {
  const byNs = (o: { metadata?: { namespace?: string } }) => [o.metadata?.namespace ?? ''];
  const namespaces = new IndexedStore<V1Namespace>();
  const policies = new IndexedStore<V1NetworkPolicy>({ [POLICY_BY_NAMESPACE]: byNs });
  const stores: Stores = {
    nodes: new IndexedStore(), services: new IndexedStore(), endpointSlices: new IndexedStore(), namespaces, policies,
    pods: new IndexedStore<V1Pod>({ [POD_BY_NAMESPACE]: byNs, [POD_BY_PORT_NAME]: () => [] }),
  };
  const config = loadConfig(parseCommand(WATCHER_SPEC, ['master-init', '--nb', 'unix:/tmp/nb.sock']));
  const ctx: WatcherContext = {
    config, stores, log: createLogger('test', { level: 'error' }), ...newIpamState(config),
    nb: { cache: new Cache<NBTables>(NB_MODEL), transact: async () => [] },
    kube: { annotate: async () => {}, event: async () => {} },
  };
  const enqueued: string[] = [];
  return { pc: new PolicyController(ctx, (k) => enqueued.push(k)), stores: { namespaces, policies }, enqueued };
}

describe('NetworkPolicy event routing', () => {
  it('a pod change re-enqueues a cross-namespace policy only when its namespaceSelector matches the pod\'s namespace', async () => {
    const { pc, stores, enqueued } = controller();
    stores.namespaces.put(ns('a', { team: 'red' }));
    stores.namespaces.put(ns('b', { team: 'blue' }));
    stores.namespaces.put(ns('c', { team: 'red' }));
    const p = policy('a', 'from-red', { podSelector: {}, ingress: [{ _from: [{ namespaceSelector: { matchLabels: { team: 'red' } } }] }] });
    stores.policies.put(p);
    await pc.sync('a/from-red');

    pc.podChanged('b', [{}]);
    assert.deepEqual(enqueued, [], 'a pod in a team=blue namespace cannot change a policy that selects team=red namespaces');
    pc.podChanged('c', [{}]);
    assert.deepEqual(enqueued, ['a/from-red']);
    enqueued.length = 0;
    pc.podChanged('a', [{}]);
    assert.deepEqual([...new Set(enqueued)], ['a/from-red'], 'its own namespace (the work queue coalesces repeats)');
    enqueued.length = 0;
    pc.namespaceChanged('b');
    assert.deepEqual([...new Set(enqueued)], ['a/from-red'], 'a namespace\'s labels changed: it may have joined or left the selector');
  });

  it('a pod change re-enqueues only the policies that select the pod or have it as a peer (labels before or after)', async () => {
    const { pc, stores, enqueued } = controller();
    stores.namespaces.put(ns('a', {}));
    stores.policies.put(policy('a', 'web', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ _from: [{ podSelector: { matchLabels: { app: 'client' } } }] }] }));
    stores.policies.put(policy('a', 'db', { podSelector: { matchLabels: { app: 'db' } }, ingress: [] }));
    pc.podChanged('a', [{ app: 'other' }]);
    assert.deepEqual(enqueued, [], 'neither selected nor a peer');
    pc.podChanged('a', [{ app: 'client' }]);
    assert.deepEqual(enqueued, ['a/web'], 'a peer of web');
    enqueued.length = 0;
    pc.podChanged('a', [{ app: 'db' }, { app: 'web' }]);
    assert.deepEqual(enqueued.sort(), ['a/db', 'a/web'], 'relabelled from web to db: both');
    enqueued.length = 0;
    pc.podChanged('a', [undefined]);
    assert.deepEqual(enqueued.sort(), ['a/db', 'a/web'], 'labels unknown (pod gone from the store): every policy of the namespace');
  });

  it('podInterest: namespaceSelector peers with and without a podSelector; an egress named port without peers means every pod', () => {
    const red = { team: 'red' };
    const blue = { team: 'blue' };
    const ing = podInterest(policy('a', 'p', { podSelector: { matchLabels: { app: 'x' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: red }, podSelector: { matchLabels: { app: 'y' } } }] } as never] }));
    assert.equal(ing('b', red, { app: 'y' }), true);
    assert.equal(ing('b', red, { app: 'z' }), false);
    assert.equal(ing('b', blue, { app: 'y' }), false);
    assert.equal(ing('a', blue, { app: 'x' }), true, 'selected in its own namespace');
    assert.equal(ing('b', blue, { app: 'x' }), false, 'the podSelector selects in the policy namespace only');
    const eg = podInterest(policy('a', 'p', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['blue'] }] } }] }] }));
    assert.equal(eg('b', blue, {}), true);
    assert.equal(eg('b', red, {}), false);
    const named = podInterest(policy('a', 'p', { podSelector: { matchLabels: { app: 'x' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] }));
    assert.equal(named('b', blue, {}), true);
    assert.equal(podInterest(policy('a', 'p', { podSelector: { matchLabels: { app: 'x' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 80 }] }] }))('b', blue, {}), false);
  });
});
