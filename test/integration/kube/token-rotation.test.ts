// A rotated token file against the API double that revokes the old token: the watcher's KubeWriter retries
// a 401 once with a fresh read, and client-node's generated clients re-read it before the caller's retry.
import assert from 'node:assert/strict';
import { startApiServer, type ApiServer } from '../../../kube-double/server.js';
import { findResource } from '../../../kube-double/resources.js';
import { apiErrorCode, loadKubeConfig, makeClients, type KubeClients } from '../../../lib/kube/client.js';
import { KubeWriter } from '../../../watcher/informers.js';
import { tempTokenFile, writeTokenFile } from '../../../testkit/token-file.js';

const podRt = findResource('', 'v1', 'pods')!;

describe('lib/kube: rotated token files', function () {
  this.timeout(20000);
  let srv: ApiServer;
  let file: string;
  let clients: KubeClients;
  let writer: KubeWriter;
  let generation = 0;
  const rotate = (): string => {
    const token = `token-${++generation}`;
    writeTokenFile(file, token);
    srv.setTokens([token]);
    return token;
  };

  before(async () => {
    srv = await startApiServer({ token: 'token-0', namespaces: ['default'] });
    file = tempTokenFile('token-0');
    clients = makeClients(loadKubeConfig({ server: srv.url, tokenFile: file }));
    writer = new KubeWriter(clients, 'test', 2);
    srv.store.create(podRt, 'default', { metadata: { namespace: 'default', name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  });
  after(async () => {
    await srv?.close();
  });

  const annotation = (): string | undefined => srv.store.get(podRt, 'default', 'p').metadata.annotations?.a;

  it('KubeWriter: a PATCH right after the rotation (inside the stat interval) succeeds through its 401 retry', async () => {
    await writer.annotate({ kind: 'Pod', namespace: 'default', name: 'p' }, { a: '0' });
    assert.equal(annotation(), '0');
    rotate();
    await writer.annotate({ kind: 'Pod', namespace: 'default', name: 'p' }, { a: '1' });
    assert.equal(annotation(), '1');
  });

  it('KubeWriter: a revoked token that no file replaces is a 401 error', async () => {
    srv.setTokens(['nobody-has-this']);
    await assert.rejects(writer.annotate({ kind: 'Pod', namespace: 'default', name: 'p' }, { a: '2' }), (e: Error & { code?: number }) => e.code === 401 && /HTTP 401/.test(e.message));
    rotate();
  });

  it('generated clients: after a 401 the next call reads the rotated file', async () => {
    const read = () => clients.core.readNamespacedPod({ namespace: 'default', name: 'p' });
    const only401 = (e: unknown) => assert.equal(apiErrorCode(e), 401);
    // The last test left a token cached inside the stat interval: the first call may 401, which invalidates it.
    await read().catch(only401);
    assert.equal((await read()).metadata?.name, 'p');
    rotate();
    await read().catch(only401);
    assert.equal((await read()).metadata?.name, 'p');
  });
});
