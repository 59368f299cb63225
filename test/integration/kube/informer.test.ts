// lib/kube Informer against the API test double: typed handlers with the old object, synced,
// recovery from handler exceptions, a server outage, a server restart (versions reset) and 410.
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from '../../../kube-double/server.js';
import { RESOURCE_TYPES, type ResourceType } from '../../../kube-double/resources.js';
import { loadKubeConfig, makeClients } from '../../../lib/kube/client.js';
import { MERGE_PATCH } from '../../../lib/kube/patch.js';
import { Informer } from '../../../lib/kube/informer.js';
import { tempTokenFile } from '../../../testkit/token-file.js';
import { until as pollUntil } from '../apiserver/helpers.js';

const PODS = RESOURCE_TYPES.find((r) => r.kind === 'Pod') as ResourceType;
const spec = { containers: [{ name: 'c', image: 'i' }] };

const until = (what: string, pred: () => boolean, timeoutMs = 8000): Promise<void> => pollUntil(what, pred, timeoutMs);

describe('lib/kube Informer', function () {
  this.timeout(30000);
  const servers: ApiServer[] = [];
  const informers: Informer<k8s.V1Pod>[] = [];
  after(async () => {
    for (const i of informers) await i.stop();
    for (const s of servers) await s.close();
  });

  async function server(port = 0, historySize = 1000): Promise<ApiServer> {
    const s = await startApiServer({ listen: [{ host: '127.0.0.1', port }], token: 't', historySize });
    servers.push(s);
    return s;
  }

  function podInformer(url: string, fieldSelector?: string) {
    const kc = loadKubeConfig({ server: url, tokenFile: tempTokenFile('t') });
    const { core } = makeClients(kc);
    const log: string[] = [];
    const inf = new Informer<k8s.V1Pod>({
      kc,
      path: '/api/v1/pods',
      list: () => core.listPodForAllNamespaces({ fieldSelector }),
      fieldSelector,
      backoff: { minMs: 50, maxMs: 400 },
      logger: { info: () => undefined, debug: () => undefined, warn: (m: string) => log.push(m) },
    });
    informers.push(inf);
    return { inf, core, log };
  }

  it('delivers add, update (with the old object) and delete, and resolves synced after the first list', async () => {
    const s = await server();
    const { inf, core } = podInformer(s.url, 'spec.nodeName=n1');
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'pre' }, spec: { ...spec, nodeName: 'n1' } } });
    const events: string[] = [];
    inf.onAdd((p) => void events.push(`add ${p.metadata?.name}`));
    inf.onUpdate((p, old) => void events.push(`update ${p.metadata?.name} ${old?.metadata?.labels?.v ?? '-'}->${p.metadata?.labels?.v}`));
    inf.onDelete((p) => void events.push(`delete ${p.metadata?.name}`));
    inf.onAdd(() => {
      throw new Error('a broken handler must not stop the informer');
    });
    await inf.start();
    await inf.synced;
    assert.equal(inf.hasSynced, true);
    assert.deepEqual(events, ['add pre'], 'the initial list is delivered before synced resolves');
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'other-node' }, spec: { ...spec, nodeName: 'n2' } } });
    await core.patchNamespacedPod({ namespace: 'default', name: 'pre', body: { metadata: { labels: { v: '1' } } } }, MERGE_PATCH);
    await core.patchNamespacedPod({ namespace: 'default', name: 'pre', body: { metadata: { labels: { v: '2' } } } }, MERGE_PATCH);
    await core.deleteNamespacedPod({ namespace: 'default', name: 'pre' });
    await until('events', () => events.length >= 4);
    assert.deepEqual(events, ['add pre', 'update pre -->1', 'update pre 1->2', 'delete pre']);
    assert.equal(inf.list().length, 0);
  });

  it('keeps running through an outage and relists after the server restarts with fresh versions', async () => {
    let s = await server();
    const port = Number(new URL(s.url).port);
    const { inf, core, log } = podInformer(s.url);
    const names = () => inf.list().map((p) => p.metadata?.name).sort();
    const deleted: string[] = [];
    inf.onDelete((p) => void deleted.push(p.metadata?.name as string));
    for (const n of ['a', 'b']) await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: n }, spec } });
    // Move the version well past what the restarted server will have.
    for (let i = 0; i < 20; i++) await core.patchNamespacedPod({ namespace: 'default', name: 'a', body: { metadata: { labels: { i: String(i) } } } }, MERGE_PATCH);
    await inf.start();
    await inf.synced;
    assert.deepEqual(names(), ['a', 'b']);

    await s.close();
    await until('errors during the outage', () => inf.errorCount >= 2);
    s = await server(port);
    s.store.create(PODS, 'default', { metadata: { name: 'c' }, spec });
    s.store.create(PODS, 'default', { metadata: { name: 'b' }, spec });
    await until('relist against the new server', () => names().join() === 'b,c');
    assert.deepEqual(deleted, ['a']);
    assert.ok(inf.restarts >= 1);
    assert.ok(log.some((l) => /restarting in \d+ ms/.test(l)), log.join('\n'));
    // And it keeps watching.
    s.store.create(PODS, 'default', { metadata: { name: 'd' }, spec });
    await until('watch after recovery', () => names().includes('d'));
  });

  it('relists after 410 without losing objects', async () => {
    const s = await server(0, 10);
    const { inf } = podInformer(s.url);
    for (let i = 0; i < 5; i++) s.store.create(PODS, 'default', { metadata: { name: `p${i}` }, spec });
    await inf.start();
    await inf.synced;
    s.dropWatches();
    for (let i = 5; i < 40; i++) s.store.create(PODS, 'default', { metadata: { name: `p${i}` }, spec });
    s.store.delete(PODS, 'default', 'p0');
    await until('relist', () => inf.list().length === 39);
    assert.equal(inf.get('p0', 'default'), undefined);
    assert.ok(inf.get('p39', 'default'));
  });
});
