// The policies controller's per-pod path against a real NB ovsdb-server: random sequences of pod, namespace
// and policy events, then NB's Port_Group/ACL/Address_Set rows must be what translating every policy from
// scratch gives (compared row by row, and a fresh controller's full rebuild must write nothing). Also: a pod
// joining a policy mutates only its own address and port, never rewriting a set or a port group.
import assert from 'node:assert/strict';
import type { V1Namespace, V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { OvsdbClient } from '../../../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../../../lib/ovsdb/models/nb.js';
import type { Op } from '../../../lib/ovsdb/ops.js';
import { Txn } from '../../../lib/ovn/txn.js';
import { commitAlone } from '../../../lib/ovn/commit.js';
import { ensureSwitch } from '../../../lib/ovn/switch.js';
import { createOrUpdatePort, deletePort } from '../../../lib/ovn/lsp.js';
import { ownerIds, podPort } from '../../../lib/ovn/names.js';
import { parseCommand } from '../../../lib/cli.js';
import { createLogger } from '../../../lib/log.js';
import { WorkQueue } from '../../../lib/workqueue.js';
import { WATCHER_SPEC, loadConfig } from '../../../watcher/config.js';
import { newIpamState, type WatcherContext } from '../../../watcher/context.js';
import { IndexedStore } from '../../../watcher/informers.js';
import { POD_BY_NAMESPACE, POD_BY_PORT_NAME, POLICY_BY_NAMESPACE, keyOf, type Stores } from '../../../watcher/kube-view.js';
import { PolicyController } from '../../../watcher/controllers/policies.js';
import { translatePolicy, type PodInfo } from '../../../watcher/policy/translate.js';
import { startOvsdbServer, type OvsdbServer } from '../../../testkit/ovsdb-server.js';
import { mulberry32 } from '../../fixtures/prng.js';

const NAMESPACES = ['a', 'b', 'c'];
const POD_NAMES = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
const APPS = ['x', 'y', 'z'];

/** Policies covering each peer kind: same-namespace pods, namespaceSelector with and without pods, ipBlock, egress, a named port. */
function policies(variant: number): V1NetworkPolicy[] {
  const app = (i: number) => ({ matchLabels: { app: APPS[(i + variant) % APPS.length] } });
  const team = variant % 2 ? 'red' : 'blue';
  const np = (namespace: string, name: string, spec: V1NetworkPolicy['spec']): V1NetworkPolicy => ({ metadata: { namespace, name, resourceVersion: String(variant) }, spec });
  return [
    np('a', 'same-ns', { podSelector: app(0), ingress: [{ _from: [{ podSelector: app(1) }], ports: [{ port: 80 }] }] }),
    np('a', 'cross-ns', { podSelector: {}, ingress: [{ _from: [{ namespaceSelector: { matchLabels: { team } }, podSelector: app(2) }] }, { _from: [{ namespaceSelector: {} }, { podSelector: app(0) }] }] }),
    np('b', 'egress', { podSelector: app(1), policyTypes: ['Ingress', 'Egress'], ingress: [{ _from: [{ ipBlock: { cidr: '172.16.0.0/16' } }, { podSelector: {} }] }], egress: [{ to: [{ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['red'] }] } }], ports: [{ port: 53, protocol: 'UDP' }] }] }),
    np('c', 'named-port', { podSelector: app(2), ingress: [{ _from: [{ podSelector: {} }], ports: [{ port: 'http' }] }] }),
    np('c', 'deny-all', { podSelector: {}, policyTypes: ['Ingress'] }),
  ];
}

interface Harness {
  stores: Stores;
  /** The same stores, writable as an informer writes them. */
  put: { namespaces: IndexedStore<V1Namespace>; policies: IndexedStore<V1NetworkPolicy>; pods: IndexedStore<V1Pod> };
  ctx: WatcherContext;
  pc: PolicyController;
  queue: WorkQueue;
  ops: Op[][];
  podSyncs: number;
}

describe('NetworkPolicy: per-pod updates equal a full translation (real NB)', function () {
  this.timeout(120_000);
  let server: OvsdbServer;
  let nb: OvsdbClient<NBTables>;

  beforeEach(async () => {
    server = await startOvsdbServer({});
    await server.run('ovn-nbctl', [`--db=${server.unix}`, 'init']);
    nb = await OvsdbClient.connect(NB_MODEL, { remotes: [server.unix] });
    await nb.monitor(Object.keys(NB_MODEL.tables) as Array<keyof NBTables & string>);
    const txn = new Txn(nb.cache, 'test switch');
    ensureSwitch(txn, { name: 'n1', other_config: {}, external_ids: {} });
    await commitAlone(nb, txn);
  });
  afterEach(async () => {
    nb?.close();
    await server?.cleanup();
  });

  /** A controller with its queue; over new stores, or over `shared`'s. */
  function harness(shared?: Harness): Harness {
    const byNs = (o: { metadata?: { namespace?: string } }) => [o.metadata?.namespace ?? ''];
    const put = shared?.put ?? {
      namespaces: new IndexedStore<V1Namespace>(),
      policies: new IndexedStore<V1NetworkPolicy>({ [POLICY_BY_NAMESPACE]: byNs }),
      pods: new IndexedStore<V1Pod>({
        [POD_BY_NAMESPACE]: byNs,
        [POD_BY_PORT_NAME]: (p) => (p.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((cp) => cp.name ?? '')).filter(Boolean),
      }),
    };
    const stores: Stores = { nodes: new IndexedStore(), services: new IndexedStore(), endpointSlices: new IndexedStore(), ...put };
    const h = { stores, put, ops: [] as Op[][], podSyncs: 0 } as Harness;
    const config = loadConfig(parseCommand(WATCHER_SPEC, ['master-init', '--nb', 'unix:/tmp/nb.sock']));
    h.ctx = {
      config, stores, log: createLogger('test', { level: 'error' }), ...newIpamState(config),
      nb: { cache: nb.cache, transact: (ops, o) => (h.ops.push(ops), nb.transact(ops, o)) },
      kube: { annotate: async () => {}, event: async () => {} },
    };
    h.queue = new WorkQueue((k) => (k.endsWith(' pods') && h.podSyncs++, h.pc.sync(k)), { name: 'networkpolicy', workers: 8 });
    h.pc = new PolicyController(h.ctx, (k) => h.queue.add(k));
    return h;
  }

  async function setPort(key: string, ip: string | undefined): Promise<void> {
    const [ns, name] = key.split('/');
    const txn = new Txn(nb.cache, `test port ${key}`);
    if (ip) createOrUpdatePort(txn, 'n1', { name: podPort(ns, name), addresses: [`0a:58:0a:f4:00:01 ${ip}`], external_ids: ownerIds('pod', key) });
    else deletePort(txn, podPort(ns, name));
    if (txn.ops.length) await commitAlone(nb, txn);
  }

  const pod = (key: string, labels: Record<string, string>, phase = 'Running'): V1Pod => {
    const [namespace, name] = key.split('/');
    return { metadata: { namespace, name, labels }, spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: labels.app === 'x' ? 80 : 8080 }] }] }, status: { phase } };
  };

  /** NB against translatePolicy over the stores, from scratch; then a new controller's full rebuild must write nothing. */
  async function assertMatchesFullTranslation(h: Harness, where: string): Promise<void> {
    await h.queue.idle();
    const info = (p: V1Pod): PodInfo | undefined => {
      const lsp = nb.cache.lookup('Logical_Switch_Port', 'name', podPort(p.metadata!.namespace!, p.metadata!.name!));
      const ip = lsp?.addresses[0]?.split(' ')[1];
      if (!ip || p.status?.phase === 'Succeeded') return undefined;
      return { namespace: p.metadata!.namespace!, name: p.metadata!.name!, labels: p.metadata?.labels ?? {}, ips: [ip], ports: [{ name: 'http', containerPort: p.spec!.containers[0].ports![0].containerPort, protocol: 'TCP' }] };
    };
    const infos = (l: V1Pod[]) => l.map(info).filter((x): x is PodInfo => !!x);
    const view = {
      podsIn: (ns: string) => infos(h.stores.pods.byIndex(POD_BY_NAMESPACE, ns)),
      namespaces: () => h.stores.namespaces.list().map((n) => ({ name: n.metadata!.name!, labels: n.metadata?.labels ?? {} })),
      podsWithPortName: (n: string) => infos(h.stores.pods.byIndex(POD_BY_PORT_NAME, n)),
    };
    for (const p of h.stores.policies.list()) {
      const plan = translatePolicy(p, view, { family: 4 });
      for (const as of plan.addressSets) {
        assert.deepEqual([...(nb.cache.lookup('Address_Set', 'name', as.name)?.addresses ?? ['<no set>'])].sort(), as.addresses, `${where}: ${plan.key} address set ${as.name}`);
      }
      const pg = nb.cache.lookup('Port_Group', 'name', plan.portGroup);
      assert.ok(pg, `${where}: ${plan.key} port group`);
      const names = pg.ports.map((u) => nb.cache.get('Logical_Switch_Port', u)?.name).sort();
      assert.deepEqual(names, plan.selected.map((s) => podPort(s.namespace, s.name)).sort(), `${where}: ${plan.key} port group members`);
      assert.deepEqual(pg.acls.map((u) => nb.cache.get('ACL', u)?.match).sort(), plan.acls.map((a) => a.match).sort(), `${where}: ${plan.key} ACLs`);
    }
    const fresh = harness(h);
    for (const p of h.stores.policies.list()) fresh.queue.add(keyOf(p));
    await fresh.queue.idle();
    assert.deepEqual(fresh.ops, [], `${where}: a full rebuild from scratch finds nothing to change`);
    fresh.queue.shutdown();
  }

  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 240 random pod, namespace and policy events leave NB as a full translation would`, async () => {
      const rnd = mulberry32(seed);
      const pick = <T>(l: T[]): T => l[Math.floor(rnd() * l.length)];
      const h = harness();
      for (const n of NAMESPACES) h.put.namespaces.put({ metadata: { name: n, labels: { team: pick(['red', 'blue']) } } });
      for (const p of policies(0)) h.put.policies.put(p);
      for (const p of h.stores.policies.list()) h.queue.add(keyOf(p));
      let nextIp = 3;
      for (let step = 0; step < 240; step++) {
        const r = rnd();
        const key = `${pick(NAMESPACES)}/${pick(POD_NAMES)}`;
        const ns = key.split('/')[0];
        const old = h.stores.pods.get(key);
        const was = old ? [old.metadata?.labels ?? {}] : [];
        if (r < 0.4) {
          // Created or relabelled; a new pod gets its port first, as the pods controller commits it before the annotation.
          if (!old) await setPort(key, `10.244.0.${nextIp++ % 250}`);
          const labels = { app: pick(APPS), ...(rnd() < 0.5 ? { tier: 'fe' } : {}) };
          h.put.pods.put(pod(key, labels));
          h.pc.podChanged(ns, [labels, ...was], key);
        } else if (r < 0.55 && old) {
          // A new address (a few collide with another pod's on purpose: sets hold each address once).
          await setPort(key, rnd() < 0.2 ? '10.244.0.3' : `10.244.0.${nextIp++ % 250}`);
          h.put.pods.put(pod(key, old.metadata!.labels!));
          h.pc.podChanged(ns, was, key);
        } else if (r < 0.62 && old) {
          h.put.pods.put(pod(key, old.metadata!.labels!, 'Succeeded'));
          h.pc.podChanged(ns, was, key);
        } else if (r < 0.8 && old) {
          h.put.pods.remove(old);
          h.pc.podChanged(ns, was, key);
          await setPort(key, undefined);
          h.pc.podChanged(ns, [undefined], key);
        } else if (r < 0.9) {
          h.put.namespaces.put({ metadata: { name: ns, labels: { team: pick(['red', 'blue', 'green']) } } });
          h.pc.namespaceChanged(ns);
        } else if (r < 0.95) {
          const p = pick(policies(1 + Math.floor(rnd() * 3)));
          h.put.policies.put(p);
          h.queue.add(keyOf(p));
        }
        if (rnd() < 0.3) await h.queue.idle();
        if (step % 60 === 59) await assertMatchesFullTranslation(h, `seed ${seed} step ${step}`);
      }
      assert.ok(h.podSyncs > 20, `pod events went through the per-pod path (${h.podSyncs} times)`);
      h.queue.shutdown();
    });
  }

  it('one batch where a pod leaves with an address and another joins with it keeps the address in the set', async () => {
    const h = harness();
    h.put.namespaces.put({ metadata: { name: 'a', labels: {} } });
    h.put.policies.put({ metadata: { namespace: 'a', name: 'web' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ _from: [{ podSelector: { matchLabels: { app: 'client' } } }] }] } });
    await setPort('a/old', '10.244.1.7');
    const old = pod('a/old', { app: 'client' });
    h.put.pods.put(old);
    h.queue.add('a/web');
    await h.queue.idle();
    await setPort('a/old', undefined);
    await setPort('a/new', '10.244.1.7');
    // Both events in one turn: the policy's per-pod sync drains them together (pending pods are read after this turn).
    h.put.pods.remove(old);
    h.pc.podChanged('a', [{ app: 'client' }], 'a/old');
    h.put.pods.put(pod('a/new', { app: 'client' }));
    h.pc.podChanged('a', [{ app: 'client' }], 'a/new');
    await h.queue.idle();
    await assertMatchesFullTranslation(h, 'after the address moved between pods');
    h.queue.shutdown();
  });

  it('a pod joining a policy with 60 peers sends only its own address and port as mutations', async () => {
    const h = harness();
    h.put.namespaces.put({ metadata: { name: 'a', labels: {} } });
    h.put.policies.put({ metadata: { namespace: 'a', name: 'web' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ _from: [{ podSelector: {} }] }] } });
    for (let i = 0; i < 60; i++) {
      await setPort(`a/p${i}`, `10.244.1.${i + 3}`);
      h.put.pods.put(pod(`a/p${i}`, { app: i % 2 ? 'web' : 'db' }));
    }
    h.queue.add('a/web');
    await h.queue.idle();
    h.ops.length = 0;
    await setPort('a/new', '10.244.2.9');
    h.put.pods.put(pod('a/new', { app: 'web' }));
    h.pc.podChanged('a', [{ app: 'web' }], 'a/new');
    await h.queue.idle();
    const ops = h.ops.flat().map((o) => o.wire as { op: string; table: string; mutations?: unknown[] });
    assert.deepEqual(ops.map((o) => `${o.op} ${o.table}`).sort(), ['mutate Address_Set', 'mutate Port_Group']);
    const lsp = nb.cache.lookup('Logical_Switch_Port', 'name', 'a_new')!;
    assert.deepEqual(ops.find((o) => o.table === 'Address_Set')!.mutations, [['addresses', 'insert', ['set', ['10.244.2.9']]]]);
    assert.deepEqual(ops.find((o) => o.table === 'Port_Group')!.mutations, [['ports', 'insert', ['set', [['uuid', lsp._uuid]]]]]);
    await assertMatchesFullTranslation(h, 'after the new pod');
    h.queue.shutdown();
  });
});
