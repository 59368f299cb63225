// The API test double driven by the real @kubernetes/client-node (2.x), as the daemons use it.
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from '../../../kube-double/server.js';
import { RESOURCE_TYPES } from '../../../kube-double/resources.js';
import { codeOf, kubeConfig, podSpec, until } from './helpers.js';

const TOKEN = 'test-token';
const MERGE = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

describe('API test double with @kubernetes/client-node', function () {
  this.timeout(20000);
  let srv: ApiServer;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  const informers: k8s.Informer<k8s.KubernetesObject>[] = [];

  before(async () => {
    srv = await startApiServer({ token: TOKEN, bookmarkIntervalMs: 100, historySize: 20 });
    kc = kubeConfig(srv.url, TOKEN);
    core = kc.makeApiClient(k8s.CoreV1Api);
  });
  afterEach(async () => {
    for (const inf of informers.splice(0)) await inf.stop();
  });
  after(async () => {
    await srv?.close();
  });

  async function freshNamespace(name: string): Promise<string> {
    await core.createNamespace({ body: { metadata: { name } } });
    return name;
  }

  it('serves discovery, /version, and resolves kinds for KubernetesObjectApi', async () => {
    const versions = await kc.makeApiClient(k8s.CoreApi).getAPIVersions();
    assert.deepEqual(versions.versions, ['v1']);
    const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
    assert.deepEqual(groups.groups.map((g) => g.name).sort(), ['admissionregistration.k8s.io', 'apiextensions.k8s.io', 'apps', 'batch', 'coordination.k8s.io', 'discovery.k8s.io', 'kubeovn.io', 'networking.k8s.io', 'rbac.authorization.k8s.io']);
    const code = await kc.makeApiClient(k8s.VersionApi).getCode();
    assert.equal(code.major, '1');
    // KubernetesObjectApi looks plurals and scope up through /api/v1 and /apis/<group>/<version>.
    const objs = k8s.KubernetesObjectApi.makeApiClient(kc);
    await objs.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'via-discovery', namespace: 'default' } });
    const vpc = await objs.create({ apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name: 'vpc-discovery' } });
    assert.equal((vpc.metadata as k8s.V1ObjectMeta).namespace, undefined);
    await objs.delete({ apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name: 'vpc-discovery' } });
  });

  it('answers 401 without or with a wrong token', async () => {
    for (const token of [undefined, 'wrong']) {
      const bad = kubeConfig(srv.url, token).makeApiClient(k8s.CoreV1Api);
      await assert.rejects(bad.listNamespace(), (e: unknown) => codeOf(e) === 401);
    }
  });

  it('does CRUD on namespaced and cluster-scoped kinds with the right status codes', async () => {
    const ns = await freshNamespace('crud');
    const node = await core.createNode({ body: { metadata: { name: 'node1', labels: { role: 'worker' } } } });
    assert.equal(node.metadata?.name, 'node1');
    const pod = await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'p1' }, spec: { ...podSpec, nodeName: 'node1' } } });
    assert.equal(pod.metadata?.namespace, ns);
    assert.equal(pod.status?.phase, 'Pending');
    await assert.rejects(core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'p1' }, spec: podSpec } }), (e: unknown) => codeOf(e) === 409);
    await assert.rejects(core.readNamespacedPod({ namespace: ns, name: 'nope' }), (e: unknown) => codeOf(e) === 404);
    await assert.rejects(core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'NOPE' }, spec: podSpec } }), (e: unknown) => codeOf(e) === 422);
    // A stale resourceVersion on replace is a 409 Conflict.
    const updated = await core.replaceNamespacedPod({ namespace: ns, name: 'p1', body: { ...pod, metadata: { ...pod.metadata, labels: { a: '1' } } } });
    assert.notEqual(updated.metadata?.resourceVersion, pod.metadata?.resourceVersion);
    await assert.rejects(core.replaceNamespacedPod({ namespace: ns, name: 'p1', body: { ...pod, metadata: { ...pod.metadata, labels: { a: '2' } } } }), (e: unknown) => codeOf(e) === 409);
    // Status subresource.
    const st = await core.replaceNamespacedPodStatus({ namespace: ns, name: 'p1', body: { ...updated, status: { phase: 'Running', podIP: '10.244.1.5' } } });
    assert.equal(st.status?.podIP, '10.244.1.5');
    const svc = await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } } });
    assert.match(svc.spec?.clusterIP ?? '', /^10\.96\.\d+\.\d+$/);
    const es = await kc.makeApiClient(k8s.DiscoveryV1Api).createNamespacedEndpointSlice({
      namespace: ns,
      body: { metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.5'] }], ports: [{ port: 8080 }] },
    });
    assert.equal(es.addressType, 'IPv4');
    const np = await kc.makeApiClient(k8s.NetworkingV1Api).createNamespacedNetworkPolicy({ namespace: ns, body: { metadata: { name: 'deny' }, spec: { podSelector: {} } } });
    assert.deepEqual(np.spec?.policyTypes, ['Ingress']);
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cm' }, data: { k: 'v' } } });
    await core.createNamespacedEvent({ namespace: ns, body: { metadata: { name: 'ev1' }, involvedObject: { kind: 'Pod', name: 'p1', namespace: ns }, reason: 'Test', type: 'Normal' } });
    const evs = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=p1' });
    assert.equal(evs.items.length, 1);
    const deleted = await core.deleteNamespacedPod({ namespace: ns, name: 'p1' });
    assert.equal(deleted.metadata?.name, 'p1');
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'cm' });
    await core.deleteNode({ name: 'node1' });
    await assert.rejects(core.readNode({ name: 'node1' }), (e: unknown) => codeOf(e) === 404);
  });

  it('honours finalizers: delete marks, removing the last finalizer deletes', async () => {
    const ns = await freshNamespace('fin');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'f', finalizers: ['tessera.io/x'] } } });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'f' });
    const marked = await core.readNamespacedConfigMap({ namespace: ns, name: 'f' });
    assert.ok(marked.metadata?.deletionTimestamp);
    await core.patchNamespacedConfigMap({ namespace: ns, name: 'f', body: { metadata: { finalizers: null } } }, MERGE);
    await assert.rejects(core.readNamespacedConfigMap({ namespace: ns, name: 'f' }), (e: unknown) => codeOf(e) === 404);
  });

  it('filters lists and watches by label and field selectors (spec.nodeName)', async () => {
    const ns = await freshNamespace('sel');
    const mk = (name: string, node: string, labels: Record<string, string>) => core.createNamespacedPod({ namespace: ns, body: { metadata: { name, labels }, spec: { ...podSpec, nodeName: node } } });
    await mk('a', 'n1', { app: 'web', tier: 'front' });
    await mk('b', 'n2', { app: 'web', tier: 'back' });
    await mk('c', 'n1', { app: 'db' });
    const names = (l: k8s.V1PodList) => l.items.map((p) => p.metadata?.name).sort();
    assert.deepEqual(names(await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=n1' })), ['a', 'c']);
    assert.deepEqual(names(await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web,tier notin (back)' })), ['a']);
    assert.deepEqual(names(await core.listNamespacedPod({ namespace: ns, labelSelector: 'app in (web,db),!tier' })), ['c']);
    assert.deepEqual(names(await core.listNamespacedPod({ namespace: ns, fieldSelector: 'spec.nodeName!=n1,metadata.name=b' })), ['b']);
    await assert.rejects(core.listNamespacedPod({ namespace: ns, fieldSelector: 'spec.bogus=1' }), (e: unknown) => codeOf(e) === 400 && /field label not supported/.test(String((e as k8s.ApiException<string>).body)));
    await assert.rejects(core.listNamespacedPod({ namespace: ns, labelSelector: 'app in (' }), (e: unknown) => codeOf(e) === 400);

    // A watch on node n1 with app=web: c never shows; b turns up when relabelled... no: b is on n2.
    const events: string[] = [];
    const list = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=n1', labelSelector: 'app=web' });
    const ctl = await new k8s.Watch(kc).watch(
      '/api/v1/pods',
      { resourceVersion: list.metadata?.resourceVersion, fieldSelector: 'spec.nodeName=n1', labelSelector: 'app=web' },
      (type: string, obj: k8s.V1Pod) => events.push(`${type} ${obj.metadata?.name}`),
      () => undefined,
    );
    await core.patchNamespacedPod({ namespace: ns, name: 'c', body: { metadata: { labels: { app: 'web' } } } }, MERGE);
    await core.patchNamespacedPod({ namespace: ns, name: 'b', body: { metadata: { labels: { app: 'db' } } } }, MERGE);
    await core.patchNamespacedPod({ namespace: ns, name: 'a', body: { metadata: { labels: { app: 'db' } } } }, MERGE);
    await until('selector events', () => events.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    ctl.abort();
    assert.deepEqual(events, ['ADDED c', 'DELETED a'], 'c starts matching, a stops matching, b never matched');
  });

  it('feeds makeInformer add, update and delete', async () => {
    const ns = await freshNamespace('inf');
    const seen: string[] = [];
    const inf = k8s.makeInformer(kc, `/api/v1/namespaces/${ns}/configmaps`, () => core.listNamespacedConfigMap({ namespace: ns }));
    informers.push(inf as unknown as k8s.Informer<k8s.KubernetesObject>);
    inf.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    inf.on('update', (o) => seen.push(`update ${o.metadata?.name} ${o.data?.k}`));
    inf.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before' } } });
    await inf.start();
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x' }, data: { k: '1' } } });
    await core.patchNamespacedConfigMap({ namespace: ns, name: 'x', body: { data: { k: '2' } } }, MERGE);
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'x' });
    await until('informer events', () => seen.length >= 4);
    assert.deepEqual(seen, ['add before', 'add x', 'update x 2', 'delete x']);
  });

  it('resumes a watch from a resourceVersion and sends bookmarks', async () => {
    const ns = await freshNamespace('resume');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'old' } } });
    const list = await core.listNamespacedConfigMap({ namespace: ns });
    const rv = list.metadata?.resourceVersion as string;
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'new1' } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'new2' } } });
    const events: { type: string; name?: string; rv?: string }[] = [];
    const ctl = await new k8s.Watch(kc).watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: rv, allowWatchBookmarks: true }, (type: string, obj: k8s.V1ConfigMap) => events.push({ type, name: obj.metadata?.name, rv: obj.metadata?.resourceVersion }), () => undefined);
    await until('two bookmarks', () => events.filter((e) => e.type === 'BOOKMARK').length >= 2);
    ctl.abort();
    const changes = events.filter((e) => e.type !== 'BOOKMARK');
    assert.deepEqual(changes.map((e) => `${e.type} ${e.name}`), ['ADDED new1', 'ADDED new2'], 'only what happened after the version');
    const bookmark = events.find((e) => e.type === 'BOOKMARK');
    assert.ok(Number(bookmark?.rv) >= Number(changes[1].rv), 'bookmark carries a version at least as new as the last event');
  });

  it('sends 410 Gone as an ERROR event for a compacted version, and the informer relists without losing objects', async () => {
    const ns = await freshNamespace('gone');
    const cms = () => core.listNamespacedConfigMap({ namespace: ns });
    const rv = (await cms()).metadata?.resourceVersion as string;
    for (let i = 0; i < 25; i++) await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `fill${i}` } } });
    const got: { type: string; code?: number }[] = [];
    let doneErr: unknown = 'not called';
    await new k8s.Watch(kc).watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: rv }, (type: string, obj: k8s.V1Status) => got.push({ type, code: obj.code }), (err: unknown) => (doneErr = err));
    await until('watch end', () => doneErr !== 'not called');
    assert.deepEqual(got, [{ type: 'ERROR', code: 410 }]);

    // An informer whose watch drops while more than the history window happens must relist.
    const inf = k8s.makeInformer(kc, `/api/v1/namespaces/${ns}/configmaps`, cms);
    informers.push(inf as unknown as k8s.Informer<k8s.KubernetesObject>);
    const deleted: string[] = [];
    inf.on('delete', (o) => deleted.push(o.metadata?.name as string));
    await inf.start();
    assert.equal(inf.list(ns).length, 25);
    const cmType = RESOURCE_TYPES.find((r) => r.kind === 'ConfigMap');
    // Synchronously, before the informer can reconnect: drop its watch, then change more than the history holds.
    srv.dropWatches();
    for (let i = 0; i < 30; i++) srv.store.create(cmType!, ns, { metadata: { name: `late${i}` } });
    srv.store.delete(cmType!, ns, 'fill0');
    await until('relist after 410', () => inf.list(ns).length === 54, 10000);
    assert.equal(inf.get('late29', ns)?.metadata?.name, 'late29');
    assert.equal(inf.get('fill0', ns), undefined);
    assert.deepEqual(deleted, ['fill0'], 'the relist noticed the deletion it missed');
  });

  it('lists with NotOlderThan an old version, Exact answers 410, pagination with limit/continue', async () => {
    const ns = await freshNamespace('pages');
    for (let i = 0; i < 5; i++) await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `c${i}` } } });
    const nt = await core.listNamespacedConfigMap({ namespace: ns, resourceVersion: '1', resourceVersionMatch: 'NotOlderThan' });
    assert.equal(nt.items.length, 5);
    assert.equal(nt.metadata?.resourceVersion, String(srv.store.resourceVersion));
    await assert.rejects(core.listNamespacedConfigMap({ namespace: ns, resourceVersion: '1', resourceVersionMatch: 'Exact' }), (e: unknown) => codeOf(e) === 410);
    await assert.rejects(core.listNamespacedConfigMap({ namespace: ns, resourceVersion: '999999', resourceVersionMatch: 'NotOlderThan' }), (e: unknown) => codeOf(e) === 504);
    const names: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedConfigMap({ namespace: ns, limit: 2, _continue: cont });
      names.push(...page.items.map((c) => c.metadata?.name as string));
      cont = page.metadata?._continue;
      pages++;
    } while (cont);
    assert.equal(pages, 3);
    assert.deepEqual(names, ['c0', 'c1', 'c2', 'c3', 'c4']);
  });

  it('does CRUD on kubeovn.io Vpc and Subnet with CustomObjectsApi', async () => {
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const g = { group: 'kubeovn.io', version: 'v1' };
    const subnet = (await custom.createClusterCustomObject({ ...g, plural: 'subnets', body: { apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name: 'net1' }, spec: { cidrBlock: '10.16.0.0/16', vpc: 'vpc1', protocol: 'IPv4' } } })) as k8s.KubernetesObject & { spec: Record<string, unknown> };
    assert.equal(subnet.spec.cidrBlock, '10.16.0.0/16');
    await custom.createClusterCustomObject({ ...g, plural: 'vpcs', body: { apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name: 'vpc1' }, spec: { namespaces: ['default'], staticRoutes: [{ cidr: '0.0.0.0/0', nextHopIP: '10.0.0.1', policy: 'policyDst' }] } } });
    const list = (await custom.listClusterCustomObject({ ...g, plural: 'subnets' })) as { items: k8s.KubernetesObject[] };
    assert.deepEqual(list.items.map((i) => [i.kind, i.metadata?.name]), [['Subnet', 'net1']]);
    const patched = (await custom.patchClusterCustomObject({ ...g, plural: 'subnets', name: 'net1', body: { spec: { gateway: '10.16.0.1' } } }, MERGE)) as { spec: Record<string, unknown> };
    assert.equal(patched.spec.gateway, '10.16.0.1');
    assert.equal(patched.spec.cidrBlock, '10.16.0.0/16');
    await assert.rejects(
      custom.patchClusterCustomObject({ ...g, plural: 'subnets', name: 'net1', body: { spec: { x: 1 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch)),
      (e: unknown) => codeOf(e) === 415,
    );
    // status is a subresource: the main resource ignores it, /status takes it.
    const cur = (await custom.getClusterCustomObject({ ...g, plural: 'subnets', name: 'net1' })) as k8s.KubernetesObject & Record<string, unknown>;
    await custom.replaceClusterCustomObject({ ...g, plural: 'subnets', name: 'net1', body: { ...cur, status: { v4availableIPs: 1 } } });
    assert.equal(((await custom.getClusterCustomObject({ ...g, plural: 'subnets', name: 'net1' })) as Record<string, unknown>).status, undefined);
    await custom.patchClusterCustomObjectStatus({ ...g, plural: 'subnets', name: 'net1', body: { status: { v4availableIPs: 65533, conditions: [{ type: 'Ready', status: 'True' }] } } }, MERGE);
    const withStatus = (await custom.getClusterCustomObject({ ...g, plural: 'subnets', name: 'net1' })) as { status: { v4availableIPs: number } };
    assert.equal(withStatus.status.v4availableIPs, 65533);
    // Custom resources need the resourceVersion on replace.
    await assert.rejects(custom.replaceClusterCustomObject({ ...g, plural: 'vpcs', name: 'vpc1', body: { apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name: 'vpc1' }, spec: {} } }), (e: unknown) => codeOf(e) === 422);
    await custom.deleteClusterCustomObject({ ...g, plural: 'subnets', name: 'net1' });
    await custom.deleteClusterCustomObject({ ...g, plural: 'vpcs', name: 'vpc1' });
    await assert.rejects(custom.getClusterCustomObject({ ...g, plural: 'vpcs', name: 'vpc1' }), (e: unknown) => codeOf(e) === 404);
  });

  it('ends a watch after timeoutSeconds, serves watch=1 and the legacy /watch/ path, and deletes collections', async () => {
    const ns = await freshNamespace('misc');
    const t0 = Date.now();
    let ended = false;
    await new k8s.Watch(kc).watch(`/api/v1/namespaces/${ns}/configmaps`, { timeoutSeconds: 1 }, () => undefined, () => (ended = true));
    await until('server-side timeout', () => ended, 5000);
    assert.ok(Date.now() - t0 >= 900, 'not before the timeout');
    for (const path of [`/api/v1/watch/namespaces/${ns}/configmaps?timeoutSeconds=1`, `/api/v1/namespaces/${ns}/configmaps?watch=1&timeoutSeconds=1`]) {
      const res = await fetch(`${srv.url}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.status, 200);
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { generateName: 'w-', labels: { batch: 'x' } } } });
      const text = await res.text();
      assert.match(text, /^\{"type":"ADDED","object":\{"apiVersion":"v1","kind":"ConfigMap"/m, path);
    }
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'keep' } } });
    await core.deleteCollectionNamespacedConfigMap({ namespace: ns, labelSelector: 'batch=x' });
    const left = await core.listNamespacedConfigMap({ namespace: ns });
    assert.deepEqual(left.items.map((c) => c.metadata?.name), ['keep']);
  });

  it('answers 415 to an unsupported patch type and 404 to unknown paths', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'apply' } } });
    await assert.rejects(
      core.patchNamespacedConfigMap({ namespace: 'default', name: 'apply', body: { data: {} } }, k8s.setHeaderOptions('Content-Type', 'application/apply-patch+yaml')),
      (e: unknown) => codeOf(e) === 415,
    );
    const res = await fetch(`${srv.url}/api/v1/widgets`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { kind: string }).kind, 'Status');
  });
});
