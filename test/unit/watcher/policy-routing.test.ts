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
import { namespaceInterest } from '../../../watcher/policy/translate.js';

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

    pc.podChanged('b');
    assert.deepEqual(enqueued, [], 'a pod in a team=blue namespace cannot change a policy that selects team=red namespaces');
    pc.podChanged('c');
    assert.deepEqual(enqueued, ['a/from-red']);
    enqueued.length = 0;
    pc.podChanged('a');
    assert.deepEqual([...new Set(enqueued)], ['a/from-red'], 'its own namespace (the work queue coalesces repeats)');
    enqueued.length = 0;
    pc.namespaceChanged('b');
    assert.deepEqual([...new Set(enqueued)], ['a/from-red'], 'a namespace\'s labels changed: it may have joined or left the selector');
  });

  it('namespaceInterest: namespaceSelector peers of either direction; an egress named port without peers means every namespace', () => {
    const red = { team: 'red' };
    const blue = { team: 'blue' };
    const ing = namespaceInterest(policy('a', 'p', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: red } }] } as never] }));
    assert.equal(ing(red), true);
    assert.equal(ing(blue), false);
    const eg = namespaceInterest(policy('a', 'p', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['blue'] }] } }] }] }));
    assert.equal(eg(blue), true);
    assert.equal(eg(red), false);
    const named = namespaceInterest(policy('a', 'p', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] }));
    assert.equal(named(blue), true);
    assert.equal(namespaceInterest(policy('a', 'p', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 80 }] }] }))(blue), false);
  });
});
