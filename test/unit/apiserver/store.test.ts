import assert from 'node:assert/strict';
import { RESOURCE_TYPES, type KubeObject, type ResourceType } from '../../../kube-double/resources.js';
import { Store, type EventType, type Filter } from '../../../kube-double/store.js';
import { ApiError } from '../../../kube-double/status.js';
import { parseFieldSelector, parseLabelSelector } from '../../../kube-double/selectors.js';

const rt = (kind: string) => RESOURCE_TYPES.find((r) => r.kind === kind) as ResourceType;
const PODS = rt('Pod');
const pod = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ metadata: { name, ...((extra.metadata as object) ?? {}) }, spec: { containers: [{ name: 'c', image: 'i' }], ...((extra.spec as object) ?? {}) } });
const all: Filter = { labels: [], fields: [] };

function apiError(code: number, reason?: string) {
  return (e: unknown) => e instanceof ApiError && e.code === code && (reason === undefined || e.reason === reason);
}

function collect(store: Store, r: ResourceType, filter: Filter, fromRV?: number) {
  const events: [EventType, string, string][] = [];
  const cancel = store.watch(r, filter, { send: (type, ev) => events.push([type, ev.object.metadata.name as string, ev.object.metadata.resourceVersion as string]) }, fromRV);
  return { events, cancel };
}

describe('apiserver store', () => {
  it('issues one increasing resourceVersion across kinds, with uid, creationTimestamp and generation', () => {
    const s = new Store();
    const start = s.resourceVersion;
    const p = s.create(PODS, 'default', pod('a'));
    const cm = s.create(rt('ConfigMap'), 'default', { metadata: { name: 'c' }, data: { k: 'v' } });
    assert.equal(Number(p.metadata.resourceVersion), start + 1);
    assert.equal(Number(cm.metadata.resourceVersion), start + 2);
    assert.match(p.metadata.uid as string, /^[0-9a-f-]{36}$/);
    assert.match(p.metadata.creationTimestamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(p.metadata.generation, 1);
    assert.equal(p.kind, 'Pod');
    assert.equal(p.apiVersion, 'v1');
    assert.equal((p.status as { phase: string }).phase, 'Pending');
  });

  it('rejects duplicates, missing namespaces, bad names and invalid pods', () => {
    const s = new Store();
    s.create(PODS, 'default', pod('a'));
    assert.throws(() => s.create(PODS, 'default', pod('a')), apiError(409, 'AlreadyExists'));
    assert.throws(() => s.create(PODS, 'nope', pod('a')), (e: unknown) => apiError(404)(e) && /namespaces "nope" not found/.test((e as Error).message));
    assert.throws(() => s.create(PODS, 'default', pod('Bad_Name')), apiError(422, 'Invalid'));
    assert.throws(() => s.create(PODS, 'default', { metadata: { name: 'x' }, spec: {} }), (e: unknown) => apiError(422)(e) && /spec\.containers/.test((e as Error).message));
    assert.throws(() => s.create(PODS, 'default', { ...pod('y'), metadata: { name: 'y', resourceVersion: '5' } }), apiError(500));
  });

  it('hands in-process callers copies, so changing one and updating it is a real change', () => {
    const s = new Store();
    const created = s.create(PODS, 'default', pod('a'));
    created.metadata.labels = { mutated: 'yes' };
    assert.equal(s.get(PODS, 'default', 'a').metadata.labels, undefined);
    const got = s.get(PODS, 'default', 'a');
    got.metadata.labels = { x: '1' };
    const w = collect(s, PODS, all, s.resourceVersion);
    const updated = s.update(PODS, 'default', 'a', got);
    assert.deepEqual(updated.metadata.labels, { x: '1' });
    assert.deepEqual(w.events.map((e) => e[0]), ['MODIFIED']);
  });

  it('generates names from generateName', () => {
    const s = new Store();
    const p = s.create(PODS, 'default', { ...pod(''), metadata: { generateName: 'web-' } });
    assert.match(p.metadata.name as string, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('answers 409 Conflict to a stale resourceVersion and skips no-op updates', () => {
    const s = new Store();
    const v1 = s.create(PODS, 'default', pod('a'));
    const v2 = s.update(PODS, 'default', 'a', { ...v1, metadata: { ...v1.metadata, labels: { x: '1' } } });
    assert.ok(Number(v2.metadata.resourceVersion) > Number(v1.metadata.resourceVersion));
    assert.throws(() => s.update(PODS, 'default', 'a', { ...v1, metadata: { ...v1.metadata, labels: { x: '2' } } }), apiError(409, 'Conflict'));
    const same = s.update(PODS, 'default', 'a', v2);
    assert.equal(same.metadata.resourceVersion, v2.metadata.resourceVersion, 'no-op update keeps the version');
    assert.throws(() => s.patch(PODS, 'default', 'a', 'merge', { metadata: { resourceVersion: v1.metadata.resourceVersion, labels: { y: '1' } } }), apiError(409, 'Conflict'));
  });

  it('keeps status on the main resource and only status on /status; bumps generation on spec changes', () => {
    const s = new Store();
    const v1 = s.create(PODS, 'default', pod('a'));
    const v2 = s.update(PODS, 'default', 'a', { ...v1, status: { phase: 'Running' } }, 'status');
    assert.equal((v2.status as { phase: string }).phase, 'Running');
    assert.equal(v2.metadata.generation, 1);
    const v3 = s.update(PODS, 'default', 'a', { ...v2, status: { phase: 'Failed' }, metadata: { ...v2.metadata, labels: { a: 'b' } } });
    assert.equal((v3.status as { phase: string }).phase, 'Running', 'status ignored on the main resource');
    assert.deepEqual(v3.metadata.labels, { a: 'b' });
    const svc = s.create(rt('Service'), 'default', { metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } });
    const svc2 = s.patch(rt('Service'), 'default', 's', 'merge', { spec: { selector: { app: 'x' } } });
    assert.equal(svc.metadata.generation, 1);
    assert.equal(svc2.metadata.generation, 2);
  });

  it('forbids changing a pod spec other than images', () => {
    const s = new Store();
    s.create(PODS, 'default', pod('a', { spec: { nodeName: 'n1' } }));
    assert.throws(() => s.patch(PODS, 'default', 'a', 'merge', { spec: { nodeName: 'n2' } }), apiError(422));
    const p = s.patch(PODS, 'default', 'a', 'strategic', { spec: { containers: [{ name: 'c', image: 'i2' }] } });
    assert.equal((p.spec as { containers: { image: string }[] }).containers[0].image, 'i2');
  });

  it('honours finalizers on delete', () => {
    const s = new Store();
    s.create(PODS, 'default', pod('a', { metadata: { finalizers: ['tessera.io/cleanup'] } }));
    const w = collect(s, PODS, all, s.resourceVersion);
    const d = s.delete(PODS, 'default', 'a');
    assert.ok(d.metadata.deletionTimestamp);
    assert.ok(s.get(PODS, 'default', 'a'), 'still there while a finalizer remains');
    s.patch(PODS, 'default', 'a', 'json', [{ op: 'remove', path: '/metadata/finalizers' }]);
    assert.throws(() => s.get(PODS, 'default', 'a'), apiError(404));
    assert.deepEqual(w.events.map((e) => e[0]), ['MODIFIED', 'DELETED']);
  });

  it('sends selector transitions as ADDED/DELETED to watchers', () => {
    const s = new Store();
    const filter: Filter = { labels: parseLabelSelector('app=web'), fields: parseFieldSelector('spec.nodeName=n1') };
    s.create(PODS, 'default', pod('a', { spec: { nodeName: 'n1' } }));
    const w = collect(s, PODS, filter, s.resourceVersion);
    s.patch(PODS, 'default', 'a', 'merge', { metadata: { labels: { app: 'web' } } });
    s.patch(PODS, 'default', 'a', 'merge', { metadata: { labels: { app: 'web', v: '2' } } });
    s.patch(PODS, 'default', 'a', 'merge', { metadata: { labels: { app: 'db' } } });
    s.create(PODS, 'default', pod('b', { spec: { nodeName: 'n2' }, metadata: { labels: { app: 'web' } } }));
    assert.deepEqual(w.events.map((e) => e[0]), ['ADDED', 'MODIFIED', 'DELETED']);
  });

  it('resumes watches from history and answers 410 once it is compacted', () => {
    const s = new Store({ historySize: 5 });
    const rv0 = s.resourceVersion;
    for (let i = 0; i < 3; i++) s.create(PODS, 'default', pod(`p${i}`));
    const w = collect(s, PODS, all, rv0);
    assert.deepEqual(w.events.map((e) => e[1]), ['p0', 'p1', 'p2']);
    w.cancel();
    for (let i = 3; i < 10; i++) s.create(PODS, 'default', pod(`p${i}`));
    assert.throws(() => collect(s, PODS, all, rv0), apiError(410, 'Expired'));
    assert.throws(() => collect(s, PODS, all, s.resourceVersion + 5), apiError(410), 'a version from the future');
    const recent = collect(s, PODS, all, s.resourceVersion - 2);
    assert.deepEqual(recent.events.map((e) => e[1]), ['p8', 'p9']);
    const fresh = collect(s, PODS, all, undefined);
    assert.equal(fresh.events.length, 10, 'no resourceVersion: the whole state as ADDED');
  });

  it('allocates distinct service IPs in the service CIDR and frees them on delete', () => {
    const s = new Store({ serviceCidr: '10.96.0.0/29' });
    const SVC = rt('Service');
    const ips = new Set<string>();
    for (let i = 0; i < 5; i++) ips.add((s.create(SVC, 'default', { metadata: { name: `s${i}` }, spec: { ports: [{ port: 80 }] } }).spec as { clusterIP: string }).clusterIP);
    assert.equal(ips.size, 5);
    for (const ip of ips) assert.match(ip, /^10\.96\.0\.[2-6]$/);
    assert.throws(() => s.create(SVC, 'default', { metadata: { name: 'full' }, spec: { ports: [{ port: 80 }] } }), apiError(422));
    s.delete(SVC, 'default', 's0');
    const again = s.create(SVC, 'default', { metadata: { name: 'again' }, spec: { ports: [{ port: 80 }] } });
    assert.ok(ips.has((again.spec as { clusterIP: string }).clusterIP));
    assert.throws(() => s.create(SVC, 'default', { metadata: { name: 'dup' }, spec: { clusterIP: (again.spec as { clusterIP: string }).clusterIP, ports: [{ port: 80 }] } }), apiError(422));
  });

  it('deletes the contents of a deleted namespace', () => {
    const s = new Store();
    s.create(rt('Namespace'), undefined, { metadata: { name: 'team' } });
    s.create(PODS, 'team', pod('a'));
    s.delete(rt('Namespace'), undefined, 'team');
    assert.throws(() => s.get(PODS, 'team', 'a'), apiError(404));
    assert.equal(s.list(rt('Namespace'), all).items.some((n) => n.metadata.name === 'team'), false);
  });
});
