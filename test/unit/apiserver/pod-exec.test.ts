// pods/exec on the API test double, driven by client-node's Exec (through kubectl-tessera's podExec): RBAC `create`
// on pods/exec is required (a Role with only `get` is refused), the pod must exist, and an authorized upgrade reaches
// the kubelet socket as GET /exec/<ns>/<pod>/<container>?command=... without the user's credentials; the kubelet's
// channel bytes and exit Status come back unchanged.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findResource } from '../../../kube-double/resources.js';
import { serviceAccountUser } from '../../../kube-double/rbac.js';
import { startApiServer, type ApiServer } from '../../../kube-double/server.js';
import { deployRbacFiles, loadManifestFile } from '../../../kube-double/manifests.js';
import { podExec } from '../../../kubectl-tessera/connectivity/pod-exec.js';
import { exitStatus } from '../../../lab/kubelet-exec.js';
import { upgrade } from '../../../lab/websocket.js';
import { loadKubeConfig } from '../../../lib/kube/client.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('API test double: pods/exec', () => {
  let api: ApiServer;
  let kubelet: http.Server;
  let dir: string;
  const seen: Array<{ url: string; auth?: string }> = [];
  const tokenFile = (t: string): string => {
    const f = join(dir, `${t}.token`);
    writeFileSync(f, t);
    return f;
  };
  const execAs = (token: string) => podExec(loadKubeConfig({ server: api.url, tokenFile: tokenFile(token) }, {}));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pod-exec-'));
    const socket = join(dir, 'kubelet.sock');
    // A kubelet that answers every exec with "out" on stdout, "err" on stderr and exit code 3.
    kubelet = http.createServer((_q, r) => r.end());
    kubelet.on('upgrade', (req, s) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization });
      const ws = upgrade(req, s, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
      if (!ws) return;
      ws.send(Buffer.from('\x01out'));
      ws.send(Buffer.from('\x02err'));
      ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(exitStatus(['x'], 3)))]));
      ws.close();
    });
    await new Promise<void>((r) => kubelet.listen(socket, r));
    const getOnly = [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: 'ct' } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'exec-get', namespace: 'ct' }, rules: [{ apiGroups: [''], resources: ['pods', 'pods/exec'], verbs: ['get'] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'exec-get', namespace: 'ct' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'exec-get' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'ct' }] },
    ];
    api = await startApiServer({
      token: 'admin', kubeletSocket: socket,
      identities: [{ token: 'ct-token', user: serviceAccountUser('kube-system', 'tessera-connectivity') }, { token: 'reader-token', user: serviceAccountUser('ct', 'reader') },
        { token: 'agent-token', user: serviceAccountUser('kube-system', 'tessera-agent') }],
      objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ct' } }, ...deployRbacFiles(ROOT).flatMap(loadManifestFile), ...getOnly] as never,
    });
    const pods = findResource('', 'v1', 'pods');
    assert.ok(pods);
    api.store.create(pods, 'ct', { metadata: { name: 'p' }, spec: { nodeName: 'n1', containers: [{ name: 'probe', image: 'tessera/tessera:1' }] } });
    api.store.patch(pods, 'ct', 'p', 'merge', { status: { phase: 'Running' } }, 'status');
  });
  after(async () => {
    await api.close();
    kubelet.closeAllConnections();
    await new Promise((r) => kubelet.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('proxies an authorized exec to the kubelet, without the user\'s token, and returns its streams and exit code', async () => {
    const r = await execAs('ct-token')('ct', 'p', 'probe', ['tessera', 'probe', 'connect', '10.0.0.1', '80'], 10_000);
    assert.deepEqual(r, { code: 3, stdout: 'out', stderr: 'err' });
    const last = seen.at(-1);
    assert.equal(last?.auth, undefined);
    assert.equal(last?.url.split('?')[0], '/exec/ct/p/probe');
    assert.deepEqual(new URLSearchParams(last?.url.split('?')[1]).getAll('command'), ['tessera', 'probe', 'connect', '10.0.0.1', '80']);
  });

  it('refuses a user without create on pods/exec (get alone is not enough) and a pod that does not exist', async () => {
    const n = seen.length;
    for (const token of ['reader-token', 'agent-token']) {
      const r = await execAs(token)('ct', 'p', 'probe', ['true'], 10_000);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /403.*create" on pods\/exec/);
    }
    const missing = await execAs('ct-token')('ct', 'nope', 'probe', ['true'], 10_000);
    assert.match(missing.stderr, /404/);
    const noCommand = await execAs('ct-token')('ct', 'p', 'other', ['true'], 10_000);
    assert.match(noCommand.stderr, /400/);
    assert.equal(seen.length, n, 'none of them reached the kubelet');
  });
});
