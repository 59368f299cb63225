import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../../lib/cli.js';
import { apiErrorCode, loadKubeConfig } from '../../../lib/kube/client.js';
import { tokenFileOf } from '../../../lib/kube/token-file.js';

describe('lib/kube loadKubeConfig', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-kubecfg-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('builds a config from --kube-api and --kube-token-file, reading the token before each request', async () => {
    const file = path.join(tmp, 'token');
    fs.writeFileSync(file, 'abc\n', { mode: 0o600 });
    const kc = loadKubeConfig({ server: 'http://10.0.0.1:6443/', tokenFile: file }, {});
    assert.equal(kc.getCurrentCluster()?.server, 'http://10.0.0.1:6443');
    assert.equal(kc.getCurrentCluster()?.skipTLSVerify, true, 'client-node needs skipTLSVerify for http');
    assert.equal(kc.getCurrentUser()?.token, undefined, 'no token is kept in the config');
    const auth = async (): Promise<unknown> => {
      const o: { headers?: Record<string, string> } = {};
      await kc.applyToHTTPSOptions(o);
      return o.headers?.Authorization;
    };
    assert.equal(await auth(), 'Bearer abc');
    // The kubelet swaps the file (new inode); invalidate() is what a 401 triggers.
    fs.writeFileSync(`${file}.new`, 'def');
    fs.renameSync(`${file}.new`, file);
    tokenFileOf(kc)?.invalidate();
    assert.equal(await auth(), 'Bearer def');
    const https = loadKubeConfig({ server: 'https://api.example:6443', tokenFile: file }, {});
    assert.equal(https.getCurrentCluster()?.skipTLSVerify, false);
  });

  it('reads a kubeconfig file', () => {
    const file = path.join(tmp, 'config');
    fs.writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "http://127.0.0.1:6443", insecure-skip-tls-verify: true}}]',
        'users: [{name: u, user: {token: t0}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
      ].join('\n'),
    );
    const kc = loadKubeConfig({ kubeconfig: file }, {});
    assert.equal(kc.getCurrentCluster()?.server, 'http://127.0.0.1:6443');
    assert.equal(kc.getCurrentUser()?.token, 't0');
  });

  it('names what is wrong in a ConfigError', () => {
    const cases: [Parameters<typeof loadKubeConfig>[0], RegExp][] = [
      [{ server: 'not a url' }, /--kube-api "not a url" is not a URL/],
      [{ server: 'ftp://x' }, /scheme must be http or https/],
      [{ tokenFile: path.join(tmp, 'token') }, /--kube-token-file needs --kube-api/],
      [{ server: 'http://x:1', tokenFile: path.join(tmp, 'missing') }, /--kube-token-file .*missing: ENOENT/],
      [{ server: 'http://x:1', kubeconfig: '/x' }, /not both/],
      [{ kubeconfig: path.join(tmp, 'missing') }, /does not exist/],
      [{}, /no Kubernetes API configured/],
    ];
    for (const [opts, re] of cases) assert.throws(() => loadKubeConfig(opts, {}), (e: unknown) => e instanceof ConfigError && re.test(e.message), JSON.stringify(opts));
  });

  it('uses the in-cluster service account only when it exists', () => {
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    if (fs.existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) return;
    assert.throws(() => loadKubeConfig({}, env), /serviceaccount\/token is missing/);
  });

  it('extracts HTTP codes from client-node errors', () => {
    assert.equal(apiErrorCode({ code: 409 }), 409);
    assert.equal(apiErrorCode({ statusCode: 410 }), 410);
    assert.equal(apiErrorCode(new Error('x')), undefined);
    assert.equal(apiErrorCode('x'), undefined);
  });
});
