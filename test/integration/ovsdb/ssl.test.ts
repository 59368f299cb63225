// ssl: remotes against a real ovsdb-server with --private-key/--certificate/--ca-cert, certs made here with openssl.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect as tlsConnect } from 'node:tls';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OvsdbClient, OvsdbDisconnectedError } from '../../../lib/ovsdb/index.js';
import { NB_MODEL } from '../../../lib/ovsdb/models/nb.js';
import { startOvsdbServer, type OvsdbServer } from '../../../testkit/ovsdb-server.js';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe', timeout: 30000 });
}

/** A CA and an end-entity key/cert signed by it. */
function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-ca.key`, '-out', `${name}-ca.crt`, '-subj', `/CN=${name} test CA`, '-days', '2'], dir);
}
function makeCert(dir: string, ca: string, name: string): void {
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}-ca.crt`, '-CAkey', `${ca}-ca.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2'], dir);
}

describe('ovsdb ssl remotes (real ovsdb-server)', function () {
  this.timeout(60000);
  let dir: string;
  let server: OvsdbServer;

  before(async function () {
    try {
      execFileSync('openssl', ['version'], { stdio: 'pipe' });
    } catch {
      throw new Error('openssl is not installed (apt-get install openssl)');
    }
    dir = mkdtempSync(join(tmpdir(), 'tessera-ovsdb-pki-'));
    makeCa(dir, 'good');
    makeCa(dir, 'rogue');
    makeCert(dir, 'good', 'server');
    makeCert(dir, 'good', 'client');
    makeCert(dir, 'rogue', 'intruder');
    server = await startOvsdbServer({ ssl: { key: join(dir, 'server.key'), cert: join(dir, 'server.crt'), ca: join(dir, 'good-ca.crt') } });
  });
  after(async () => {
    await server?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('transacts and monitors over ssl with key/cert/CA files', async () => {
    const nb = await OvsdbClient.connect(NB_MODEL, { remotes: [server.ssl], tls: { key: join(dir, 'client.key'), cert: join(dir, 'client.crt'), ca: join(dir, 'good-ca.crt') } });
    try {
      await nb.monitor(['Logical_Switch']);
      await nb.transact([nb.op.insert('Logical_Switch', { name: 'over-tls' })]);
      await nb.waitFor('Logical_Switch', (s) => s.name === 'over-tls', 5000);
    } finally {
      nb.close();
    }
  });

  it('accepts PEM text as well as paths', async () => {
    const pem = (f: string): string => readFileSync(join(dir, f), 'utf8');
    const nb = await OvsdbClient.connect(NB_MODEL, { remotes: server.ssl, tls: { key: pem('client.key'), cert: pem('client.crt'), ca: pem('good-ca.crt') } });
    nb.close();
  });

  it('fails with a clear error when the server is not signed by our CA', async () => {
    const t0 = Date.now();
    await assert.rejects(
      OvsdbClient.connect(NB_MODEL, { remotes: server.ssl, tls: { key: join(dir, 'intruder.key'), cert: join(dir, 'intruder.crt'), ca: join(dir, 'rogue-ca.crt') }, initialTimeoutMs: 1500 }),
      (e: Error) => e instanceof OvsdbDisconnectedError && e.message.includes(server.ssl) && /certificate/i.test(e.message),
    );
    assert.ok(Date.now() - t0 < 5000);
  });

  it('fails when the server rejects our client certificate', async () => {
    await assert.rejects(
      OvsdbClient.connect(NB_MODEL, { remotes: server.ssl, tls: { key: join(dir, 'intruder.key'), cert: join(dir, 'intruder.crt'), ca: join(dir, 'good-ca.crt') }, initialTimeoutMs: 1500 }),
      // The server's TLS alert reaches us: it does not know the CA that signed our certificate.
      (e: Error) => e instanceof OvsdbDisconnectedError && e.message.includes(server.ssl) && /alert unknown ca/.test(e.message),
    );
  });

  it('gets no answer without a client certificate: ovsdb-server requires one', async () => {
    // Our client always presents one, so speak TLS by hand: CA only, then a list_dbs request.
    const port = Number(server.ssl.split(':').pop());
    const outcome = await new Promise<string>((resolve) => {
      const sock = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(join(dir, 'good-ca.crt')), checkServerIdentity: () => undefined });
      let got = '';
      sock.on('secureConnect', () => sock.write(JSON.stringify({ method: 'list_dbs', params: [], id: 1 })));
      sock.on('data', (d: Buffer) => (got += d.toString()));
      sock.on('error', (e: Error) => resolve(`error: ${e.message}`));
      sock.on('close', () => resolve(got ? `answer: ${got}` : 'closed'));
      setTimeout(() => resolve(got ? `answer: ${got}` : 'timeout'), 5000);
    });
    assert.match(outcome, /^error: .*alert certificate required/);
  });

  it('names a missing key file', async () => {
    await assert.rejects(
      OvsdbClient.connect(NB_MODEL, { remotes: server.ssl, tls: { key: join(dir, 'nope.key'), cert: join(dir, 'client.crt'), ca: join(dir, 'good-ca.crt') }, initialTimeoutMs: 500 }),
      /ssl private key: cannot read .*nope\.key/,
    );
  });

  it('refuses ssl remotes without tls options', async () => {
    await assert.rejects(OvsdbClient.connect(NB_MODEL, { remotes: server.ssl }), /ssl: remotes need the tls option/);
  });
});
