// The Keystone session's token cache and renewal, and the Neutron client's one retry on a 401, against HTTP stubs
// on unix sockets (the real Keystone and Neutron are in test/integration/openstack/keystone.test.ts; these cover the
// timing a real Keystone would take an hour to show).
import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { NeutronApiError, NeutronClient, NeutronUnreachableError } from '../../../lib/neutron/client.js';
import { neutronOptionsFromSecret } from '../../../lib/neutron/credentials.js';
import { KeystoneAuthError, KeystoneSession, KeystoneUnreachableError, type KeystonePasswordOptions } from '../../../lib/neutron/keystone.js';

const MIN = 60_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

interface Stub {
  socket: string;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

async function stub(dir: string, name: string, handle: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<Stub> {
  const socket = join(dir, `${name}.sock`);
  const requests: Stub['requests'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handle(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  return { socket, requests, close: () => new Promise((r) => server.close(() => r())) };
}

/** A Keystone that issues tok-1, tok-2, … with the given lifetime, stamped with its own clock `ksNow`. */
function keystoneHandler(o: { lifetimeMs: number; ksNow: () => number; status?: () => number }) {
  let n = 0;
  return (_req: IncomingMessage, _body: string, res: ServerResponse): void => {
    const status = o.status?.() ?? 201;
    if (status !== 201) {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { code: status, message: 'The request you have made requires authentication.' } }));
      return;
    }
    const issued = o.ksNow();
    const token = {
      issued_at: new Date(issued).toISOString(), expires_at: new Date(issued + o.lifetimeMs).toISOString(), project: { id: 'proj-1' },
      catalog: [{ type: 'network', endpoints: [
        { interface: 'public', region_id: 'r1', url: 'http://neutron-r1:9696' },
        { interface: 'internal', region_id: 'r2', url: 'http://neutron-r2-internal:9696/v2.0/' },
      ] }],
    };
    res.writeHead(201, { 'Content-Type': 'application/json', 'X-Subject-Token': `tok-${++n}` }).end(JSON.stringify({ token }));
  };
}

describe('Keystone session: token cache and renewal', () => {
  let dir: string;
  let now: number;
  const stubs: Stub[] = [];
  const opts = (socketPath: string, over: Partial<KeystonePasswordOptions> = {}): KeystonePasswordOptions => ({
    authUrl: 'http://keystone.example:5000', username: 'svc', password: 'Top-Secret-7', userDomainName: 'Default',
    project: { name: 'k8s', domainName: 'Default' }, interface: 'public', socketPath, now: () => now, ...over,
  });
  const ks = async (h: Parameters<typeof stub>[2]): Promise<Stub> => {
    const s = await stub(dir, `ks${stubs.length}`, h);
    stubs.push(s);
    return s;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-ks-unit-'));
    now = T0;
  });
  afterEach(async () => {
    await Promise.all(stubs.splice(0).map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks Keystone once for sequential and concurrent callers, with a password-scoped body', async () => {
    const k = await ks(keystoneHandler({ lifetimeMs: 60 * MIN, ksNow: () => now }));
    const s = new KeystoneSession(opts(k.socket));
    const all = await Promise.all([s.current(), s.current(), s.current()]);
    await s.current();
    assert.deepEqual(all.map((t) => t.token), ['tok-1', 'tok-1', 'tok-1']);
    assert.equal(k.requests.length, 1);
    assert.equal(k.requests[0]!.url, '/v3/auth/tokens');
    assert.deepEqual(JSON.parse(k.requests[0]!.body), { auth: {
      identity: { methods: ['password'], password: { user: { name: 'svc', domain: { name: 'Default' }, password: 'Top-Secret-7' } } },
      scope: { project: { name: 'k8s', domain: { name: 'Default' } } },
    } });
    assert.equal((await s.current()).projectId, 'proj-1');
    assert.ok(!inspect(s, { showHidden: true, depth: 20 }).includes('tok-1') && !inspect(s, { depth: 20 }).includes('Top-Secret'));
  });

  it('renews two minutes before expiry, not earlier', async () => {
    const k = await ks(keystoneHandler({ lifetimeMs: 10 * MIN, ksNow: () => now }));
    const s = new KeystoneSession(opts(k.socket));
    assert.equal((await s.current()).token, 'tok-1');
    now = T0 + 7 * MIN;
    assert.equal((await s.current()).token, 'tok-1');
    now = T0 + 8 * MIN + 1;
    assert.equal((await s.current()).token, 'tok-2');
    assert.equal(k.requests.length, 2);
  });

  it('a short-lived token is renewed at half its lifetime, so it is still used for a while', async () => {
    const k = await ks(keystoneHandler({ lifetimeMs: 2 * MIN, ksNow: () => now }));
    const s = new KeystoneSession(opts(k.socket));
    await s.current();
    now = T0 + MIN - 1;
    assert.equal((await s.current()).token, 'tok-1');
    now = T0 + MIN;
    assert.equal((await s.current()).token, 'tok-2');
  });

  it('counts the lifetime on its own clock: a Keystone clock a day behind does not expire every token at once', async () => {
    const k = await ks(keystoneHandler({ lifetimeMs: 60 * MIN, ksNow: () => now - 24 * 60 * MIN }));
    const s = new KeystoneSession(opts(k.socket));
    await s.current();
    now = T0 + 30 * MIN;
    assert.equal((await s.current()).token, 'tok-1');
    assert.equal(k.requests.length, 1);
  });

  it('invalidate() drops only the token it names', async () => {
    const k = await ks(keystoneHandler({ lifetimeMs: 60 * MIN, ksNow: () => now }));
    const s = new KeystoneSession(opts(k.socket));
    await s.current();
    s.invalidate('tok-other');
    assert.equal((await s.current()).token, 'tok-1');
    s.invalidate('tok-1');
    assert.equal((await s.current()).token, 'tok-2');
  });

  it('picks the network endpoint by interface and region', async () => {
    const k = await ks(keystoneHandler({ lifetimeMs: 60 * MIN, ksNow: () => now }));
    assert.equal(await new KeystoneSession(opts(k.socket)).endpoint(), 'http://neutron-r1:9696');
    assert.equal(await new KeystoneSession(opts(k.socket, { interface: 'internal', region: 'r2' })).endpoint(), 'http://neutron-r2-internal:9696/v2.0/');
    await assert.rejects(new KeystoneSession(opts(k.socket, { region: 'r2' })).endpoint(), /no network endpoint \(interface public, region r2\)/);
  });

  it('a 401 names the user and the URL, never the password; 5xx and no answer are "unreachable"', async () => {
    let status = 401;
    const k = await ks(keystoneHandler({ lifetimeMs: 60 * MIN, ksNow: () => now, status: () => status }));
    await assert.rejects(new KeystoneSession(opts(k.socket)).current(), (e: unknown) =>
      e instanceof KeystoneAuthError && e.status === 401 && /user "svc" \(domain Default\) at http:\/\/keystone.example:5000/.test(e.message) && !e.message.includes('Top-Secret'));
    status = 503;
    await assert.rejects(new KeystoneSession(opts(k.socket)).current(), (e: unknown) => e instanceof KeystoneUnreachableError && /503/.test(e.message));
    await assert.rejects(new KeystoneSession(opts(join(dir, 'nobody.sock'))).current(), (e: unknown) =>
      e instanceof KeystoneUnreachableError && e instanceof NeutronUnreachableError && /Keystone http:\/\/keystone.example:5000\/v3\/auth\/tokens unreachable/.test(e.message));
  });

  it('the Neutron client retries a 401 once with a new token, and stops after a second 401', async () => {
    const k = await ks(keystoneHandler({ lifetimeMs: 60 * MIN, ksNow: () => now }));
    let refuse = new Set(['tok-1']);
    const n = await ks((req, _b, res) => {
      const ok = !refuse.has(String(req.headers['x-auth-token']));
      res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' }).end(ok ? '{"networks":[]}' : '{"error":"Authentication required"}');
    });
    const data = { OS_AUTH_URL: 'http://keystone.example:5000/v3', OS_USERNAME: 'svc', OS_PASSWORD: 'Top-Secret-7', OS_PROJECT_NAME: 'k8s' };
    const api = new NeutronClient(neutronOptionsFromSecret(data, { keystoneSocket: k.socket, neutronSocket: n.socket, now: () => now }));
    assert.deepEqual(await api.listNetworks(), []);
    assert.deepEqual(n.requests.map((r) => [r.url, r.headers['x-auth-token']]), [['/v2.0/networks', 'tok-1'], ['/v2.0/networks', 'tok-2']]);
    assert.equal(n.requests[0]!.headers['x-project-id'], undefined);
    refuse = new Set(['tok-2', 'tok-3', 'tok-4']);
    await assert.rejects(api.listNetworks(), (e: unknown) => e instanceof NeutronApiError && e.status === 401);
    assert.equal(n.requests.length, 4);
    assert.equal(k.requests.length, 3);
  });
});
