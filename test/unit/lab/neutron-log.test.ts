import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { LabNeutronClient, lastErrors } from '../../../lab/openstack/neutron-log.js';
import { NeutronApiError } from '../../../lib/neutron/client.js';

describe('lab Neutron errors carry the server log', () => {
  let dir: string;
  let server: Server;
  let url: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'neutron-log-'));
    server = createServer((req, res) => {
      const code = req.url?.includes('ports') ? 500 : 404;
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ NeutronError: { type: `HTTP${code}`, message: 'Request Failed: internal server error' } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the last ERROR lines only', () => {
    const log = join(dir, 'a.log');
    writeFileSync(log, ['1 INFO x', '2 ERROR neutron.api.v2.resource Traceback', '3 ERROR neutron.api.v2.resource RowNotFound', '4 DEBUG y',
      '5 ERROR neutron.pecan_wsgi.hooks.translation MechanismDriverError'].join('\n'));
    assert.deepEqual(lastErrors(log, 1), ['3 ERROR neutron.api.v2.resource RowNotFound']);
    assert.deepEqual(lastErrors(join(dir, 'missing.log')), []);
  });

  it('appends the logged errors to a 5xx, and leaves a 4xx as it is', async () => {
    const log = join(dir, 'b.log');
    writeFileSync(log, '9 ERROR neutron.plugins.ml2.managers RowNotFound: Cannot find Port_Group\n');
    const c = new LabNeutronClient({ url, auth: { kind: 'noauth', projectId: 'p' } }, log);
    await assert.rejects(c.call('POST', 'ports', { port: {} }), (e: unknown) =>
      e instanceof NeutronApiError && e.status === 500 && /neutron-server logged[\s\S]*Cannot find Port_Group/.test(e.message));
    await assert.rejects(c.call('GET', 'networks/x'), (e: unknown) => e instanceof NeutronApiError && e.status === 404 && !/logged/.test(e.message));
  });
});
