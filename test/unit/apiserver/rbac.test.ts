// The test double authorizes service-account tokens by the RBAC objects it holds (here deploy/*/rbac.yaml), as the
// real API server does: a request outside the grants is a 403 with the real Status body.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startApiServer, type ApiServer } from '../../../kube-double/server.js';
import { requestVerb, ruleAllows, serviceAccountUser, type RequestAttributes } from '../../../kube-double/rbac.js';
import { deployRbacFiles, loadManifestFile } from '../../../kube-double/manifests.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('API test double: RBAC', () => {
  let api: ApiServer;
  before(async () => {
    api = await startApiServer({
      token: 'admin',
      identities: ['tessera-agent', 'tessera-watcher', 'tessera-gateway'].map((n) => ({ token: `${n}-token`, user: serviceAccountUser('kube-system', n) })),
      objects: deployRbacFiles(ROOT).flatMap(loadManifestFile),
    });
  });
  after(() => api.close());

  const req = async (token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await fetch(api.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text(); // a watch stream is newline-separated events: only the status matters there
    return { status: r.status, body: path.includes('watch=') ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };

  it('lets the agent read pods and nodes, and answers 403 with the real Status for a write it is not granted', async () => {
    assert.equal((await req('tessera-agent-token', 'GET', '/api/v1/pods')).status, 200);
    assert.equal((await req('tessera-agent-token', 'GET', '/api/v1/nodes?watch=true&timeoutSeconds=0')).status, 200);
    const denied = await req('tessera-agent-token', 'PATCH', '/api/v1/namespaces/default/pods/p1', { metadata: { labels: { a: 'b' } } });
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
      message: 'pods "p1" is forbidden: User "system:serviceaccount:kube-system:tessera-agent" cannot patch resource "pods" in API group "" in the namespace "default"',
      details: { name: 'p1', kind: 'pods' },
    });
    const list = await req('tessera-agent-token', 'GET', '/api/v1/namespaces/kube-system/configmaps');
    assert.equal(list.status, 403);
    assert.equal(list.body.message, 'configmaps is forbidden: User "system:serviceaccount:kube-system:tessera-agent" cannot list resource "configmaps" in API group "" in the namespace "kube-system"');
  });

  it('honours resourceNames and namespaces: the watcher updates its own Lease and ovn-ic-status only', async () => {
    const lease = (name: string) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-system' }, spec: {} });
    assert.equal((await req('tessera-watcher-token', 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases', lease('tessera-watcher'))).status, 201);
    assert.equal((await req('tessera-watcher-token', 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/tessera-watcher')).status, 200);
    const other = await req('tessera-watcher-token', 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/someone-else');
    assert.equal(other.status, 403);
    assert.equal(other.body.message, 'leases.coordination.k8s.io "someone-else" is forbidden: User "system:serviceaccount:kube-system:tessera-watcher" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "kube-system"');
    assert.deepEqual(other.body.details, { name: 'someone-else', group: 'coordination.k8s.io', kind: 'leases' });
    assert.equal((await req('tessera-watcher-token', 'GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/tessera-watcher')).status, 403);
    // Interconnect: kube-system ConfigMaps and kubeovn.io Subnets.
    assert.equal((await req('tessera-watcher-token', 'GET', '/api/v1/namespaces/kube-system/configmaps?watch=1&timeoutSeconds=0')).status, 200);
    assert.equal((await req('tessera-watcher-token', 'GET', '/apis/kubeovn.io/v1/subnets')).status, 200);
    const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'kube-system' }, data: {} });
    assert.equal((await req('tessera-watcher-token', 'POST', '/api/v1/namespaces/kube-system/configmaps', cm('ovn-ic-status'))).status, 201);
    const current = await req('admin', 'GET', '/api/v1/namespaces/kube-system/configmaps/ovn-ic-status');
    assert.equal((await req('tessera-watcher-token', 'PUT', '/api/v1/namespaces/kube-system/configmaps/ovn-ic-status', { ...current.body, data: { state: 'x' } })).status, 200);
    assert.equal((await req('admin', 'POST', '/api/v1/namespaces/kube-system/configmaps', cm('ovn-ic-config'))).status, 201);
    assert.equal((await req('tessera-watcher-token', 'PATCH', '/api/v1/namespaces/kube-system/configmaps/ovn-ic-config', { data: { a: 'b' } })).status, 403);
    assert.equal((await req('tessera-watcher-token', 'GET', '/api/v1/namespaces/default/configmaps')).status, 403);
  });

  it('denies what a grant removed from the store no longer allows, and refuses unknown tokens with 401', async () => {
    assert.equal((await req('tessera-gateway-token', 'GET', '/apis/discovery.k8s.io/v1/endpointslices')).status, 200);
    assert.equal((await req('admin', 'DELETE', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/tessera-gateway')).status, 200);
    assert.equal((await req('tessera-gateway-token', 'GET', '/apis/discovery.k8s.io/v1/endpointslices')).status, 403);
    assert.equal((await req('nobody', 'GET', '/api/v1/pods')).status, 401);
  });
});

describe('API test double: RBAC rule matching', () => {
  const a = (verb: string, resource: string, extra: Partial<RequestAttributes> = {}): RequestAttributes => ({ verb, apiGroup: '', resource, ...extra });
  it('matches verbs, groups, resources, subresources and names as the RBAC authorizer does', () => {
    assert.ok(ruleAllows({ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, a('get', 'pods')));
    assert.ok(!ruleAllows({ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, a('get', 'pods', { subresource: 'status' })), 'pods does not grant pods/status');
    assert.ok(ruleAllows({ apiGroups: [''], resources: ['pods/status'], verbs: ['patch'] }, a('patch', 'pods', { subresource: 'status' })));
    assert.ok(ruleAllows({ apiGroups: [''], resources: ['pods/*'], verbs: ['patch'] }, a('patch', 'pods', { subresource: 'status' })));
    assert.ok(ruleAllows({ apiGroups: [''], resources: ['*/status'], verbs: ['patch'] }, a('patch', 'nodes', { subresource: 'status' })));
    assert.ok(ruleAllows({ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, a('delete', 'leases', { apiGroup: 'coordination.k8s.io' })));
    assert.ok(!ruleAllows({ apiGroups: ['apps'], resources: ['pods'], verbs: ['get'] }, a('get', 'pods')), 'group must match');
    assert.ok(!ruleAllows({ apiGroups: [''], resources: ['configmaps'], resourceNames: ['x'], verbs: ['list'] }, a('list', 'configmaps')), 'resourceNames never grant a list');
    assert.ok(ruleAllows({ apiGroups: [''], resources: ['configmaps'], resourceNames: ['x'], verbs: ['get'] }, a('get', 'configmaps', { name: 'x' })));
    assert.equal(requestVerb('GET', false, true), 'watch');
    assert.equal(requestVerb('DELETE', false, false), 'deletecollection');
  });
});
