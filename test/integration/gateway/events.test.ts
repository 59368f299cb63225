// The gateway's Node Events against the API test double over HTTP: one GatewayFailed per distinct failure, one
// GatewayRecovered after it, and nothing while it stays healthy.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type ApiServer } from '../../../kube-double/server.js';
import { findResource } from '../../../kube-double/resources.js';
import { writeTokenFile } from '../../../testkit/token-file.js';
import { serviceAccountUser } from '../../../kube-double/rbac.js';
import { loadManifestFile } from '../../../kube-double/manifests.js';

const REPO = join(import.meta.dirname, '..', '..', '..');
import { createLogger } from '../../../lib/log.js';
import { NodeEvents } from '../../../gateway/events.js';

describe('gateway: Events on its Node (API test double)', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-gw-events-'));
  let api: ApiServer;
  before(async () => {
    // The gateway's own service account, held to deploy/gateway/rbac.yaml.
    api = await startApiServer({
      listen: [{ host: '127.0.0.1', port: 0 }], token: 'admin-token', namespaces: ['default', 'kube-system'],
      identities: [{ token: 'gw-token', user: serviceAccountUser('kube-system', 'tessera-gateway') }], objects: loadManifestFile(join(REPO, 'deploy/gateway/rbac.yaml')),
    });
    writeTokenFile(join(dir, 'token'), 'gw-token');
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports each distinct failure once and the recovery once', async () => {
    const ev = new NodeEvents({ server: api.url, tokenFile: join(dir, 'token') }, 'gw1', createLogger('test'));
    await ev.ok(); // healthy from the start: nothing to say
    await ev.failed('gateway reconcile failed: bridge breth0 has no physical port');
    await ev.failed('gateway reconcile failed: bridge breth0 has no physical port');
    await ev.failed('gateway reconcile failed: eth1 has no OpenFlow port on breth0 yet');
    await ev.ok();
    await ev.ok();
    // In the order they were written: the store lists by name, and Event names end in a random suffix.
    const list = api.store.list(findResource('', 'v1', 'events')!, { namespace: 'default', labels: [], fields: [] }).items
      .sort((a, b) => Number(a.metadata?.resourceVersion) - Number(b.metadata?.resourceVersion));
    assert.deepEqual(list.map((e) => [e.type, e.reason, e.message, (e.involvedObject as { kind: string; name: string }).kind, (e.involvedObject as { name: string }).name]), [
      ['Warning', 'GatewayFailed', 'gateway reconcile failed: bridge breth0 has no physical port', 'Node', 'gw1'],
      ['Warning', 'GatewayFailed', 'gateway reconcile failed: eth1 has no OpenFlow port on breth0 yet', 'Node', 'gw1'],
      ['Normal', 'GatewayRecovered', 'gateway on node gw1 reconciled again', 'Node', 'gw1'],
    ]);
  });
});
