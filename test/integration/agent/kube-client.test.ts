// The agent's own Kubernetes client (agent/kube-client/) against the API test double: list+watch into the informer
// with field selectors, resuming a dropped watch from its resourceVersion without a relist, 410 relist with deletes,
// BOOKMARKs advancing the version, the rotating token re-read after a 401, merge patch, and TLS verified against the
// cluster CA of a kubeconfig (a TLS front of the double, as the double serves plain HTTP).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from '../../../kube-double/server.js';
import { RESOURCE_TYPES, type ResourceType } from '../../../kube-double/resources.js';
import { InformerCore } from '../../../lib/kube/informer-core.js';
import { resolveKubeAccess } from '../../../agent/kube-client/access.js';
import { KubeApiError, KubeHttp } from '../../../agent/kube-client/http.js';
import { HttpListWatch } from '../../../agent/kube-client/list-watch.js';
import { TokenFile } from '../../../lib/kube/token-file.js';
import { writeTokenFile } from '../../../testkit/token-file.js';

const PODS = RESOURCE_TYPES.find((r) => r.kind === 'Pod') as ResourceType;
const NODES = RESOURCE_TYPES.find((r) => r.kind === 'Node') as ResourceType;
const spec = { containers: [{ name: 'c', image: 'i' }] };

async function until(what: string, pred: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('agent/kube-client against the API test double', function () {
  this.timeout(30000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-agent-kube-'));
  const servers: ApiServer[] = [];
  const informers: InformerCore<V1Pod>[] = [];
  const clients: KubeHttp[] = [];
  const requests: string[] = [];
  after(async () => {
    for (const i of informers) await i.stop();
    for (const c of clients) c.close();
    for (const s of servers) await s.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function server(opts: { historySize?: number; bookmarkIntervalMs?: number } = {}): Promise<ApiServer> {
    const s = await startApiServer({ listen: [{ host: '127.0.0.1', port: 0 }], token: 't', log: (l) => requests.push(l), ...opts });
    servers.push(s);
    return s;
  }

  function client(url: string, token = 't'): { http: KubeHttp; tokenFile: string } {
    const tokenFile = writeTokenFile(path.join(tmp, `token-${clients.length}`), token);
    const http = new KubeHttp(resolveKubeAccess({ server: url, tokenFile }, {}));
    clients.push(http);
    return { http, tokenFile };
  }

  function podInformer(http: KubeHttp, fieldSelector?: string): { inf: InformerCore<V1Pod>; events: string[] } {
    const inf = new InformerCore<V1Pod>(new HttpListWatch<V1Pod>(http, { path: '/api/v1/pods', fieldSelector }), { path: '/api/v1/pods', backoff: { minMs: 50, maxMs: 400 } });
    const events: string[] = [];
    inf.onAdd((p) => void events.push(`add ${p.metadata?.name}`));
    inf.onUpdate((p, old) => void events.push(`update ${p.metadata?.name} ${old?.metadata?.labels?.v ?? '-'}->${p.metadata?.labels?.v}`));
    inf.onDelete((p) => void events.push(`delete ${p.metadata?.name}`));
    informers.push(inf);
    return { inf, events };
  }

  const lists = (): string[] => requests.filter((l) => /^GET \/api\/v1\/pods[ ?]/.test(l) && !/[?&]watch=/.test(l));

  it('lists and watches the pods of one node: add, update with the old object, delete', async () => {
    const s = await server();
    s.store.create(PODS, 'default', { metadata: { name: 'pre' }, spec: { ...spec, nodeName: 'n1' } });
    const { inf, events } = podInformer(client(s.url).http, 'spec.nodeName=n1');
    await inf.start();
    await inf.synced;
    assert.deepEqual(events, ['add pre'], 'the initial list is delivered before synced resolves');
    s.store.create(PODS, 'default', { metadata: { name: 'other-node' }, spec: { ...spec, nodeName: 'n2' } });
    s.store.patch(PODS, 'default', 'pre', 'merge', { metadata: { labels: { v: '1' } } });
    s.store.patch(PODS, 'default', 'pre', 'merge', { metadata: { labels: { v: '2' } } });
    s.store.delete(PODS, 'default', 'pre');
    await until('events', () => events.length >= 4);
    assert.deepEqual(events, ['add pre', 'update pre -->1', 'update pre 1->2', 'delete pre']);
    assert.equal(inf.list().length, 0);
  });

  it('resumes a dropped watch from its resourceVersion, without a relist and without missing a change', async () => {
    const s = await server();
    const { inf, events } = podInformer(client(s.url).http);
    await inf.start();
    await inf.synced;
    const listsBefore = lists().length;
    s.dropWatches();
    s.store.create(PODS, 'default', { metadata: { name: 'while-dropped' }, spec });
    await until('the change made while the watch was down', () => events.includes('add while-dropped'));
    s.dropWatches();
    s.store.patch(PODS, 'default', 'while-dropped', 'merge', { metadata: { labels: { v: '1' } } });
    await until('the next change', () => events.length === 2);
    assert.deepEqual(events, ['add while-dropped', 'update while-dropped -->1']);
    assert.equal(lists().length, listsBefore, 'no list request after the first');
    assert.ok(requests.some((l) => /watch=true.*resourceVersion=\d+|resourceVersion=\d+.*watch=true/.test(l) && l.includes('allowWatchBookmarks=true')), requests.join('\n'));
  });

  it('relists after 410 Gone and reports what went meanwhile as deletes', async () => {
    const s = await server({ historySize: 10 });
    const { inf, events } = podInformer(client(s.url).http);
    for (let i = 0; i < 5; i++) s.store.create(PODS, 'default', { metadata: { name: `p${i}` }, spec });
    await inf.start();
    await inf.synced;
    await inf.stop();
    for (let i = 5; i < 40; i++) s.store.create(PODS, 'default', { metadata: { name: `p${i}` }, spec });
    s.store.delete(PODS, 'default', 'p0');
    const listsBefore = lists().length;
    await inf.start();
    await until('relist', () => inf.list().length === 39);
    assert.equal(inf.get('p0', 'default'), undefined);
    assert.ok(events.includes('delete p0'), events.join());
    assert.ok(lists().length > listsBefore, 'the 410 made it list again');
    s.store.create(PODS, 'default', { metadata: { name: 'after' }, spec });
    await until('the watch after the relist', () => events.includes('add after'));
  });

  it('moves its resourceVersion on with BOOKMARKs when nothing it watches changes', async () => {
    const s = await server({ bookmarkIntervalMs: 50 });
    const { inf } = podInformer(client(s.url).http, 'spec.nodeName=n1');
    await inf.start();
    await inf.synced;
    const before = Number(inf.resourceVersion);
    s.store.create(PODS, 'default', { metadata: { name: 'elsewhere' }, spec: { ...spec, nodeName: 'n2' } });
    await until('a bookmark past the other node\'s pod', () => Number(inf.resourceVersion) > before);
    assert.equal(inf.list().length, 0);
  });

  it('re-reads a rotated token after a 401, for requests and for watches', async () => {
    const s = await server();
    s.store.create(NODES, undefined, { metadata: { name: 'n1' } });
    const tokenFile = writeTokenFile(path.join(tmp, 'rotating'), 't');
    // A clock that stands still: the file is re-read only because a 401 invalidated it, never by its stat interval.
    const file = new TokenFile(tokenFile, () => 1e6);
    const http = new KubeHttp({ server: new URL(s.url), tls: { rejectUnauthorized: true }, token: () => file.current(), tokenFile: file });
    clients.push(http);
    const { inf, events } = podInformer(http);
    await inf.start();
    await inf.synced;
    s.setTokens(['t2']);
    writeTokenFile(tokenFile, 't2');
    await http.request('PATCH', '/api/v1/nodes/n1', { body: { metadata: { annotations: { a: 'b' } } }, contentType: 'application/merge-patch+json' });
    assert.equal((s.store.get(NODES, undefined, 'n1') as V1Node).metadata?.annotations?.a, 'b');
    assert.deepEqual(requests.filter((l) => l.startsWith('PATCH /api/v1/nodes/n1')).map((l) => l.split(' ')[2]), ['401', '200'], 'the cached token first, then the file read again');
    s.dropWatches();
    s.store.create(PODS, 'default', { metadata: { name: 'after-rotation' }, spec });
    await until('the watch reopened with the new token', () => events.includes('add after-rotation'));
    s.setTokens(['t3']);
    await assert.rejects(http.request('GET', '/api/v1/nodes/n1'), (e: unknown) => e instanceof KubeApiError && e.code === 401);
  });

  it('verifies the server against the kubeconfig\'s CA', async () => {
    const s = await server();
    s.store.create(NODES, undefined, { metadata: { name: 'n1' } });
    const pki = (name: string) => {
      const [key, crt] = [path.join(tmp, `${name}.key`), path.join(tmp, `${name}.crt`)];
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', crt], { stdio: 'ignore' });
      return { key: fs.readFileSync(key), cert: fs.readFileSync(crt), crt };
    };
    const [api, other] = [pki('api'), pki('other')];
    const port = Number(new URL(s.url).port);
    const front = tls.createServer({ key: api.key, cert: api.cert }, (c) => {
      const b = net.connect(port, '127.0.0.1');
      c.pipe(b).pipe(c);
      c.on('error', () => b.destroy());
      b.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    try {
      const url = `https://127.0.0.1:${(front.address() as net.AddressInfo).port}`;
      const kubeconfig = (ca: string, skip = false) => {
        const file = path.join(tmp, `kubeconfig-${path.basename(ca)}-${skip}`);
        fs.writeFileSync(file, [
          'apiVersion: v1', 'kind: Config', 'current-context: x',
          `clusters: [{name: c, cluster: {server: "${url}", certificate-authority: ${JSON.stringify(ca)}${skip ? ', insecure-skip-tls-verify: true' : ''}}}]`,
          'users: [{name: u, user: {token: t}}]', 'contexts: [{name: x, context: {cluster: c, user: u}}]',
        ].join('\n'));
        const http = new KubeHttp(resolveKubeAccess({ kubeconfig: file }, {}));
        clients.push(http);
        return http;
      };
      const node = await kubeconfig(api.crt).request<V1Node>('GET', '/api/v1/nodes/n1');
      assert.equal(node.metadata?.name, 'n1');
      await assert.rejects(kubeconfig(other.crt).request('GET', '/api/v1/nodes/n1'), /self[- ]signed|unable to verify|certificate/i);
      const noCa = new KubeHttp(resolveKubeAccess({ server: url, tokenFile: writeTokenFile(path.join(tmp, 'tls-token'), 't') }, {}));
      clients.push(noCa);
      await assert.rejects(
        noCa.request('GET', '/api/v1/nodes/n1'),
        /self[- ]signed|unable to verify|certificate/i,
        'without the CA the system roots do not trust it',
      );
      assert.equal((await kubeconfig(other.crt, true).request<V1Node>('GET', '/api/v1/nodes/n1')).metadata?.name, 'n1', 'insecure-skip-tls-verify');
    } finally {
      front.close();
    }
  });
});
