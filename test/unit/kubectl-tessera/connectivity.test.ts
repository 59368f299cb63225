// connectivity's cluster runner logic: which nodes it uses, the Pod it creates, how it waits for Running and reports
// a pod that never runs, exec exit codes, --external-host, and the matrix with skipped rows. The runner runs against
// the API test double in-process; the test plays the kubelet by writing the pods' status.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { findResource } from '../../../kube-double/resources.js';
import { startApiServer, type ApiServer } from '../../../kube-double/server.js';
import { ClusterPodRunner, DEFAULT_IMAGE, pickNodes, podProblem, testPodManifest } from '../../../kubectl-tessera/connectivity/cluster-runner.js';
import { formatMatrix, parseHostPort, type Row } from '../../../kubectl-tessera/connectivity/command.js';
import { exitCodeOf } from '../../../kubectl-tessera/connectivity/pod-exec.js';
import { loadKubeConfig, makeClients, type KubeClients } from '../../../lib/kube/client.js';

const node = (name: string, ip: string, o: { ready?: boolean; unschedulable?: boolean; taint?: string } = {}) => ({
  metadata: { name }, spec: { unschedulable: o.unschedulable, taints: o.taint ? [{ key: 'k', effect: o.taint }] : [] },
  status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});

describe('kubectl-tessera connectivity: cluster runner', () => {
  it('uses the first two Ready, schedulable, untainted nodes with an InternalIP', () => {
    assert.deepEqual(pickNodes([node('c', '10.0.0.3'), node('a', '10.0.0.1', { ready: false }), node('b', '10.0.0.2', { unschedulable: true }),
      node('d', '10.0.0.4', { taint: 'NoSchedule' }), node('e', '10.0.0.5', { taint: 'PreferNoSchedule' }), node('f', '10.0.0.6')]),
    [{ name: 'c', ip: '10.0.0.3' }, { name: 'e', ip: '10.0.0.5' }]);
  });

  it('a test pod is pinned to its node and runs `tessera probe` from the image, unprivileged', () => {
    const srv = testPodManifest({ name: 's', node: 'n2', labels: { app: 'x' }, serve: 8080 }, 'img:1');
    assert.equal(srv.spec?.nodeName, 'n2');
    assert.deepEqual(srv.spec?.containers[0].command, ['tessera', 'probe', 'serve', '--port', '8080']);
    assert.equal(srv.spec?.containers[0].image, 'img:1');
    assert.equal(srv.spec?.containers[0].securityContext?.runAsNonRoot, true);
    assert.equal(srv.metadata?.labels?.app, 'x');
    assert.deepEqual(testPodManifest({ name: 'c', node: 'n1', labels: {} }, 'img:1').spec?.containers[0].command, ['tessera', 'probe', 'idle']);
    assert.match(DEFAULT_IMAGE, /^tessera\/tessera:/);
  });

  it('reads exit codes from the exec Status; --external-host is IPV4:PORT', () => {
    assert.equal(exitCodeOf({ status: 'Success' }), 0);
    assert.equal(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '7' }] } }), 7);
    assert.equal(exitCodeOf({ status: 'Failure', reason: 'InternalError', message: 'no such container' }), undefined);
    assert.deepEqual(parseHostPort('192.168.1.9:9000'), { ip: '192.168.1.9', port: 9000 });
    for (const bad of ['host:80', '1.2.3.4', '1.2.3.256:80', '1.2.3.4:0', '1.2.3.4:70000']) assert.throws(() => parseHostPort(bad), /--external-host/);
  });

  it('the matrix shows skipped rows as SKIP and counts only what ran', () => {
    const rows: Row[] = [
      { check: 'service', from: 'client', to: 'svc', expect: 'reach', ok: true, detail: 'connected' },
      { check: 'egress', from: 'client', to: 'external host', expect: 'reach', ok: true, skipped: true, detail: 'skipped: no host' },
      { check: 'policy deny', from: 'intruder', to: 'protected', expect: 'blocked', ok: false, detail: 'still connects' },
    ];
    const m = formatMatrix(rows);
    assert.match(m, /^SKIP +egress +client/m);
    assert.match(m, /^FAIL +policy deny/m);
    assert.match(m, /^1 of 2 paths FAILED, 1 skipped$/m);
    assert.match(formatMatrix(rows.slice(0, 2)), /^all 1 paths OK, 1 skipped$/m);
  });

  describe('against the API test double', () => {
    let api: ApiServer;
    let kube: KubeClients;
    let dir: string;
    const pods = findResource('', 'v1', 'pods');
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ct-runner-'));
      writeFileSync(join(dir, 'token'), 'admin');
      api = await startApiServer({ token: 'admin', objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ct' } }, node('n1', '10.0.0.1'), node('n2', '10.0.0.2')].map((o) => ({ apiVersion: 'v1', kind: 'Node', ...o })) as never });
      kube = makeClients(loadKubeConfig({ server: api.url, tokenFile: join(dir, 'token') }, {}));
    });
    after(async () => {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('creates the pod, returns once the API says Running with a podIP, and deletes it at cleanup', async () => {
      const execs: string[][] = [];
      const r = await ClusterPodRunner.create(kube, async (_ns, _p, _c, cmd) => (execs.push(cmd), { code: 0, stdout: '', stderr: '' }), 'ct', { image: 'img:1' });
      assert.deepEqual(r.nodes.map((n) => n.name), ['n1', 'n2']);
      assert.equal(r.external, undefined);
      // The kubelet's part, a moment after the pod is created.
      setTimeout(() => void api.store.patch(pods as never, 'ct', 's', 'merge', { status: { phase: 'Running', podIP: '10.244.0.9' } }, 'status'), 300);
      const p = await r.create({ name: 's', node: 'n2', labels: {}, serve: 8080 });
      assert.deepEqual(p, { name: 's', node: 'n2', ip: '10.244.0.9' });
      assert.deepEqual(execs[0], ['tessera', 'probe', 'connect', '127.0.0.1', '8080', '--timeout', '1'], 'waits for the server to listen');
      await r.probe(p, '10.96.0.1', 80, 2);
      assert.deepEqual(execs.at(-1), ['tessera', 'probe', 'connect', '10.96.0.1', '80', '--timeout', '2']);
      assert.deepEqual(await r.cleanup(), []);
      await assert.rejects(kube.core.readNamespacedPod({ namespace: 'ct', name: 's' }), /404|not ?found/i);
    });

    it('a pod that fails is reported with its container\'s reason', async () => {
      const r = await ClusterPodRunner.create(kube, async () => ({ code: 0, stdout: '', stderr: '' }), 'ct', { image: 'nope:1' });
      setTimeout(() => void api.store.patch(pods as never, 'ct', 'f', 'merge', { status: { phase: 'Failed',
        containerStatuses: [{ name: 'probe', image: 'nope:1', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull', message: 'not found' } } }] } }, 'status'), 200);
      await assert.rejects(r.create({ name: 'f', node: 'n1', labels: {} }), /ct\/f \(image nope:1\) is not Running with an IP: phase Failed, ErrImagePull: not found/);
      assert.deepEqual(await r.cleanup(), []);
      const pending = { status: { phase: 'Pending' } } as V1Pod;
      assert.equal(podProblem(pending), 'phase Pending');
    });
  });
});
