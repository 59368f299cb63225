// lib/kube patch options make client-node send each patch type; checked against the API test double.
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from '../../../kube-double/server.js';
import { loadKubeConfig, makeClients, apiErrorCode } from '../../../lib/kube/client.js';
import { annotationsPatch, guardedMergePatch, JSON_PATCH, jsonPointerToken, MERGE_PATCH, STRATEGIC_MERGE_PATCH } from '../../../lib/kube/patch.js';
import { POD_NETWORKS_ANNOTATION } from '../../../lib/kube/annotations.js';
import { tempTokenFile } from '../../../testkit/token-file.js';

describe('lib/kube patch options with client-node', function () {
  this.timeout(20000);
  let srv: ApiServer;
  let core: k8s.CoreV1Api;

  before(async () => {
    srv = await startApiServer({ token: 't' });
    core = makeClients(loadKubeConfig({ server: srv.url, tokenFile: tempTokenFile('t') })).core;
  });
  after(async () => {
    await srv?.close();
  });

  const rejectsWith = (code: number) => (e: unknown) => apiErrorCode(e) === code;

  it('without options client-node sends JSON patch, so a merge-patch object is rejected', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'plain' } } });
    await assert.rejects(core.patchNamespacedConfigMap({ namespace: 'default', name: 'plain', body: { data: { a: '1' } } }), rejectsWith(400));
  });

  it('merge patch sets and removes annotations', async () => {
    const pod = await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'm', annotations: { keep: 'y', drop: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } });
    const net = JSON.stringify({ default: { ip_addresses: ['10.244.1.3/24'] } });
    const p = await core.patchNamespacedPod({ namespace: 'default', name: 'm', body: annotationsPatch({ [POD_NETWORKS_ANNOTATION]: net, drop: null }) }, MERGE_PATCH);
    assert.deepEqual(p.metadata?.annotations, { keep: 'y', [POD_NETWORKS_ANNOTATION]: net });
    assert.notEqual(p.metadata?.resourceVersion, pod.metadata?.resourceVersion);
  });

  it('guarded merge patch answers 409 when the object changed since it was read', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'g' }, data: { n: '0' } } });
    const rv = cm.metadata?.resourceVersion;
    const ok = await core.patchNamespacedConfigMap({ namespace: 'default', name: 'g', body: guardedMergePatch(rv, { data: { n: '1' } }) }, MERGE_PATCH);
    assert.equal(ok.data?.n, '1');
    await assert.rejects(core.patchNamespacedConfigMap({ namespace: 'default', name: 'g', body: guardedMergePatch(rv, { data: { n: '2' } }) }, MERGE_PATCH), rejectsWith(409));
    assert.equal((await core.readNamespacedConfigMap({ namespace: 'default', name: 'g' })).data?.n, '1');
    assert.throws(() => guardedMergePatch(undefined, {}), /needs the resourceVersion/);
  });

  it('strategic merge patch merges node conditions by type and addresses by type', async () => {
    await core.createNode({
      body: { metadata: { name: 'sn' }, status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'MemoryPressure', status: 'False' }], addresses: [{ type: 'InternalIP', address: '192.168.0.1' }] } },
    });
    const n = await core.patchNodeStatus({ name: 'sn', body: { status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'Hostname', address: 'sn' }] } } }, STRATEGIC_MERGE_PATCH);
    assert.deepEqual(n.status?.conditions?.map((c) => `${c.type}=${c.status}`), ['Ready=True', 'MemoryPressure=False']);
    assert.deepEqual(n.status?.addresses?.map((a) => a.type), ['InternalIP', 'Hostname']);
    // The same body as a merge patch replaces the list.
    const m = await core.patchNodeStatus({ name: 'sn', body: { status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } } }, MERGE_PATCH);
    assert.deepEqual(m.status?.conditions?.map((c) => c.type), ['Ready']);
  });

  it('JSON patch applies operations, and a failed test is a 422', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'j', annotations: { 'tessera.io/x': 'a' } }, data: { k: 'v' } } });
    const ann = `/metadata/annotations/${jsonPointerToken('tessera.io/x')}`;
    const ok = await core.patchNamespacedConfigMap(
      { namespace: 'default', name: 'j', body: [{ op: 'test', path: ann, value: 'a' }, { op: 'replace', path: ann, value: 'b' }, { op: 'remove', path: '/data/k' }] },
      JSON_PATCH,
    );
    assert.equal(ok.metadata?.annotations?.['tessera.io/x'], 'b');
    assert.deepEqual(ok.data ?? {}, {});
    await assert.rejects(core.patchNamespacedConfigMap({ namespace: 'default', name: 'j', body: [{ op: 'test', path: ann, value: 'a' }] }, JSON_PATCH), rejectsWith(422));
  });
});
