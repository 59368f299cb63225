// agent/kube-client/access.ts: the agent's flags to a server, TLS settings and token, with the ConfigErrors of
// lib/kube/client.ts's loadKubeConfig; and the agent's module graph, which must not reach client-node (its API
// models cost the agent ~40 MB of memory: bench/agent).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { ConfigError } from '../../../lib/cli.js';
import { resolveKubeAccess } from '../../../agent/kube-client/access.js';

describe('agent/kube-client resolveKubeAccess', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-agent-access-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
  };

  it('takes --kube-api with --kube-token-file and reads the token again once invalidated', () => {
    const file = write('token', 'abc\n');
    const a = resolveKubeAccess({ server: 'http://10.0.0.1:6443/', tokenFile: file }, {});
    assert.equal(a.server.href, 'http://10.0.0.1:6443/');
    assert.equal(a.tls.rejectUnauthorized, true);
    assert.equal(a.token(), 'abc');
    fs.writeFileSync(`${file}.new`, 'def');
    fs.renameSync(`${file}.new`, file);
    a.tokenFile?.invalidate();
    assert.equal(a.token(), 'def');
  });

  it('reads a kubeconfig: CA and client certificate relative to the file, token file, insecure-skip-tls-verify', () => {
    write('ca.crt', 'CA');
    write('kc-token', 'from-file');
    const file = write('config', [
      'apiVersion: v1', 'kind: Config', 'current-context: x',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", certificate-authority: ca.crt, tls-server-name: api}}, {name: d, cluster: {server: "https://x:1", insecure-skip-tls-verify: true}}]',
      `users: [{name: u, user: {tokenFile: kc-token, client-certificate-data: ${Buffer.from('CERT').toString('base64')}, client-key-data: ${Buffer.from('KEY').toString('base64')}}}, {name: v, user: {token: t0}}]`,
      'contexts: [{name: x, context: {cluster: c, user: u}}, {name: y, context: {cluster: d, user: v}}]',
    ].join('\n'));
    const a = resolveKubeAccess({ kubeconfig: file }, {});
    assert.equal(a.server.host, '127.0.0.1:6443');
    assert.deepEqual([a.tls.ca?.toString(), a.tls.cert?.toString(), a.tls.key?.toString(), a.tls.servername, a.tls.rejectUnauthorized], ['CA', 'CERT', 'KEY', 'api', true]);
    assert.equal(a.token(), 'from-file');
    const b = resolveKubeAccess({ kubeconfig: write('config-y', fs.readFileSync(file, 'utf8').replace('current-context: x', 'current-context: y')) }, {});
    assert.deepEqual([b.tls.rejectUnauthorized, b.token(), b.tokenFile], [false, 't0', undefined]);
  });

  it('names what is wrong in a ConfigError', () => {
    const exec = write('exec', 'current-context: x\nclusters: [{name: c, cluster: {server: "https://a:1"}}]\nusers: [{name: u, user: {exec: {command: aws}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n');
    const cases: [Parameters<typeof resolveKubeAccess>[0], RegExp][] = [
      [{ server: 'not a url' }, /--kube-api "not a url" is not a URL/],
      [{ server: 'ftp://x' }, /scheme must be http or https/],
      [{ tokenFile: path.join(tmp, 'token') }, /--kube-token-file needs --kube-api/],
      [{ server: 'http://x:1', tokenFile: path.join(tmp, 'missing') }, /--kube-token-file .*missing: ENOENT/],
      [{ server: 'http://x:1', kubeconfig: '/x' }, /not both/],
      [{ kubeconfig: path.join(tmp, 'missing') }, /does not exist/],
      [{ kubeconfig: write('no-ctx', 'clusters: []\n') }, /has no current cluster/],
      [{ kubeconfig: exec }, /exec credentials are not supported by tessera-agent/],
      [{}, /no Kubernetes API configured/],
    ];
    for (const [opts, re] of cases) assert.throws(() => resolveKubeAccess(opts, {}), (e: unknown) => e instanceof ConfigError && re.test(e.message), JSON.stringify(opts));
  });

  it('uses the in-cluster service account only when it exists', () => {
    if (fs.existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) return;
    assert.throws(() => resolveKubeAccess({}, { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }), /serviceaccount\/token is missing/);
  });
});

describe('the agent bundle', () => {
  it('does not contain @kubernetes/client-node', async function () {
    this.timeout(60000);
    const root = path.resolve(import.meta.dirname, '../../..');
    const r = await build({
      entryPoints: [path.join(root, 'agent/main.ts')], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', logLevel: 'silent',
      external: ['koffi', 'bufferutil', 'utf-8-validate', 'encoding'], define: { __TESSERA_VERSION__: '"test"' },
    });
    const inputs = Object.keys(r.metafile.inputs);
    assert.ok(inputs.some((i) => i.endsWith('agent/kube-client/http.ts')), 'the bundle was built from the agent');
    assert.deepEqual(inputs.filter((i) => i.includes('node_modules/@kubernetes/client-node/')), []);
  });
});
