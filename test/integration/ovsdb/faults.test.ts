// Bad peers and lost connections: clear errors, bounded time, no hang. Uses small fake servers
// and a relay in front of a real ovsdb-server that can freeze, cut, or hide monitor_cond.
import assert from 'node:assert/strict';
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OvsdbClient, OvsdbDisconnectedError, OvsdbTimeoutError } from '../../../lib/ovsdb/index.js';
import { JsonFramer } from '../../../lib/ovsdb/framing.js';
import { NB_MODEL } from '../../../lib/ovsdb/models/nb.js';
import { startOvsdbServer, SCHEMAS, type OvsdbServer } from '../../../testkit/ovsdb-server.js';
import { assertCacheMatchesServer, until } from './helpers.js';

/** A unix-socket server whose close() also destroys the sockets it accepted. */
function listen(path: string, onConn: (s: Socket) => void): Promise<Server> {
  return new Promise((resolve) => {
    const socks = new Set<Socket>();
    const srv = createServer((s) => {
      socks.add(s);
      s.on('close', () => socks.delete(s));
      onConn(s);
    });
    const close = srv.close.bind(srv);
    srv.close = (cb?: (err?: Error) => void): Server => {
      for (const s of socks) s.destroy();
      return close(cb);
    };
    srv.listen(path, () => resolve(srv));
  });
}

/** A relay between the client and a real server; can freeze traffic, cut connections, or answer monitor_cond with "unknown method". */
class Relay {
  frozen = false;
  hideMonitorCond = false;
  readonly clientSocks = new Set<Socket>();
  private constructor(
    readonly path: string,
    readonly server: Server,
  ) {}
  static async start(path: string, target: string): Promise<Relay> {
    let relay: Relay | undefined;
    const srv = await listen(path, (c) => {
      const r = relay!;
      r.clientSocks.add(c);
      const up = createConnection(target);
      const framer = new JsonFramer();
      c.on('data', (d: Buffer) => {
        if (r.frozen) return;
        for (const m of framer.push(d) as { method?: string; id?: unknown }[]) {
          if (r.hideMonitorCond && m.method === 'monitor_cond') c.write(JSON.stringify({ id: m.id, result: null, error: 'unknown method' }));
          else up.write(JSON.stringify(m));
        }
      });
      up.on('data', (d: Buffer) => {
        if (!r.frozen) c.write(d);
      });
      const end = (): void => {
        c.destroy();
        up.destroy();
        r.clientSocks.delete(c);
      };
      c.on('close', end).on('error', end);
      up.on('close', end).on('error', end);
    });
    relay = new Relay(path, srv);
    return relay;
  }
  cutAll(): void {
    for (const s of this.clientSocks) s.destroy();
  }
  close(): Promise<void> {
    this.cutAll();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('ovsdb faults: bad peers and lost connections', function () {
  this.timeout(30000);
  let dir: string;
  let server: OvsdbServer;
  const closers: (() => unknown)[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-ovsdb-faults-'));
    server = await startOvsdbServer({});
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });
  after(async () => {
    await server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('garbage from the server: connect rejects naming the protocol error', async () => {
    const path = join(dir, 'garbage.sock');
    const srv = await listen(path, (s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    closers.push(() => new Promise((r) => srv.close(r)));
    const t0 = Date.now();
    await assert.rejects(OvsdbClient.connect(NB_MODEL, { remotes: `unix:${path}`, initialTimeoutMs: 800 }), (e: Error) => e instanceof OvsdbDisconnectedError && /protocol error.*not speaking OVSDB/.test(e.message));
    assert.ok(Date.now() - t0 < 3000);
  });

  it('a server that accepts and never answers: connect gives up within its timeouts', async () => {
    const path = join(dir, 'silent.sock');
    const srv = await listen(path, () => undefined);
    closers.push(() => new Promise((r) => srv.close(r)));
    const t0 = Date.now();
    await assert.rejects(OvsdbClient.connect(NB_MODEL, { remotes: `unix:${path}`, connectTimeoutMs: 300, initialTimeoutMs: 1000 }), (e: Error) => /no usable remote within 1000 ms/.test(e.message) && /no reply within 300 ms/.test(e.message));
    assert.ok(Date.now() - t0 < 3000);
  });

  it('no server at all: the error lists each remote and why', async () => {
    await assert.rejects(
      OvsdbClient.connect(NB_MODEL, { remotes: [`unix:${join(dir, 'absent.sock')}`, 'tcp:127.0.0.1:1'], initialTimeoutMs: 500 }),
      (e: Error) => e.message.includes('absent.sock') && e.message.includes('tcp:127.0.0.1:1') && /ENOENT/.test(e.message) && /ECONNREFUSED/.test(e.message),
    );
  });

  it('rejects malformed remotes clearly', async () => {
    await assert.rejects(OvsdbClient.connect(NB_MODEL, { remotes: 'http://x' }), /remote "http:\/\/x": expected unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT/);
    await assert.rejects(OvsdbClient.connect(NB_MODEL, { remotes: 'tcp:1.2.3.4' }), /expected tcp:HOST:PORT/);
  });

  it("answers the server's echo requests", async () => {
    const path = join(dir, 'echo.sock');
    let reply: unknown;
    const srv = await listen(path, (s) => {
      const f = new JsonFramer();
      s.on('data', (d: Buffer) => {
        for (const m of f.push(d) as { id: unknown; method?: string }[]) {
          if (m.method === 'monitor_cond') {
            // No _Server here: answer like an old server, then probe the client.
            s.write(JSON.stringify({ id: m.id, result: null, error: 'unknown database' }));
            s.write(JSON.stringify({ id: 'echo', method: 'echo', params: ['are you there'] }));
          } else if (m.id === 'echo') reply = m;
        }
      });
    });
    closers.push(() => new Promise((r) => srv.close(r)));
    const c = await OvsdbClient.connect(NB_MODEL, { remotes: `unix:${path}`, probeIntervalMs: 0 });
    closers.push(() => c.close());
    await until(() => reply !== undefined, 3000, 'the echo reply');
    assert.deepEqual(reply, { id: 'echo', result: ['are you there'], error: null });
  });

  it('inactivity probe: a frozen connection is dropped, in-flight requests fail, and the client comes back', async () => {
    const relay = await Relay.start(join(dir, 'relay1.sock'), server.sock);
    closers.push(() => relay.close());
    const c = await OvsdbClient.connect(NB_MODEL, { remotes: `unix:${relay.path}`, probeIntervalMs: 200, reconnect: { minMs: 50, maxMs: 200 }, requestTimeoutMs: 10000 });
    closers.push(() => c.close());
    await c.monitor(['Logical_Switch']);
    const disconnected = new Promise<Error>((r) => c.once('disconnected', r));
    relay.frozen = true;
    const t0 = Date.now();
    const inflight = c.transact([c.op.select('Logical_Switch', [])]);
    await assert.rejects(inflight, OvsdbDisconnectedError);
    const reason = await disconnected;
    assert.match(reason.message, /inactivity probe/);
    assert.ok(Date.now() - t0 < 2000, `dropped after ${Date.now() - t0} ms`);
    await assert.rejects(c.transact([c.op.select('Logical_Switch', [])]), (e: Error) => e instanceof OvsdbDisconnectedError && /not connected/.test(e.message));
    relay.frozen = false;
    relay.cutAll();
    await until(() => c.connected, 5000, 'reconnect after the freeze');
    const [r] = await c.transact([c.op.select('Logical_Switch', [])]);
    assert.ok(Array.isArray(r.rows));
  });

  it('an idle connection stays up: our echo probes are answered by the real server', async () => {
    const c = await OvsdbClient.connect(NB_MODEL, { remotes: server.unix, probeIntervalMs: 100 });
    closers.push(() => c.close());
    let dropped: Error | undefined;
    c.on('disconnected', (e) => (dropped = e));
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(dropped, undefined);
    assert.equal(c.connected, true);
  });

  it('a server without our database: connect names the database', async () => {
    const sb = await startOvsdbServer({ schema: SCHEMAS.sb });
    closers.push(() => sb.cleanup());
    await assert.rejects(OvsdbClient.connect(NB_MODEL, { remotes: sb.unix, initialTimeoutMs: 500 }), /does not serve database OVN_Northbound/);
  });

  it('request timeouts are bounded', async () => {
    const relay = await Relay.start(join(dir, 'relay2.sock'), server.sock);
    closers.push(() => relay.close());
    const c = await OvsdbClient.connect(NB_MODEL, { remotes: `unix:${relay.path}`, probeIntervalMs: 0 });
    closers.push(() => c.close());
    relay.frozen = true;
    await assert.rejects(c.transact([c.op.select('Logical_Switch', [])], { timeoutMs: 200 }), (e: Error) => e instanceof OvsdbTimeoutError && /transact on unix:.*no reply within 200 ms/.test(e.message));
  });

  it('a cut connection: monitor resumes and the cache resyncs', async () => {
    const relay = await Relay.start(join(dir, 'relay3.sock'), server.sock);
    closers.push(() => relay.close());
    const c = await OvsdbClient.connect(NB_MODEL, { remotes: `unix:${relay.path}`, reconnect: { minMs: 300, maxMs: 300 } });
    closers.push(() => c.close());
    const w = await OvsdbClient.connect(NB_MODEL, { remotes: server.unix });
    closers.push(() => w.close());
    await c.monitor(['Logical_Switch']);
    // A consumer that writes in reaction to a (synthetic) event during the resync.
    let reaction: Promise<unknown> | undefined;
    c.on('change', (ev) => {
      if (ev.table === 'Logical_Switch' && ev.kind === 'insert' && ev.row.name === 'while-cut') reaction = c.transact([c.op.insert('Logical_Switch', { name: 'reaction' })]);
    });
    relay.cutAll();
    await w.transact([w.op.insert('Logical_Switch', { name: 'while-cut' })]);
    await new Promise<string>((r) => c.once('resynced', r));
    assert.ok(c.cache.lookup('Logical_Switch', 'name', 'while-cut'));
    assert.ok(reaction, 'a synthetic insert event was emitted for the row made while cut');
    await reaction;
    await c.waitFor('Logical_Switch', (s) => s.name === 'reaction', 5000);
    await assertCacheMatchesServer(c, w, ['Logical_Switch']);
  });

  it('falls back to monitor (with client-side where) when the server lacks monitor_cond', async () => {
    const relay = await Relay.start(join(dir, 'relay4.sock'), server.sock);
    relay.hideMonitorCond = true;
    closers.push(() => relay.close());
    const c = await OvsdbClient.connect(NB_MODEL, { remotes: `unix:${relay.path}` });
    closers.push(() => c.close());
    const w = await OvsdbClient.connect(NB_MODEL, { remotes: server.unix });
    closers.push(() => w.close());
    await w.transact([w.op.insert('Logical_Switch', { name: 'fb-1', external_ids: { tier: 'a' } }), w.op.insert('Logical_Switch', { name: 'fb-2', external_ids: { tier: 'b' } })]);
    await c.monitor({ Logical_Switch: { where: [['external_ids', 'includes', { tier: 'a' }]] } });
    assert.deepEqual(c.cache.list('Logical_Switch').map((s) => s.name), ['fb-1']);
    await w.transact([w.op.update('Logical_Switch', [['name', '==', 'fb-2']], { external_ids: { tier: 'a' } })]);
    await w.transact([w.op.update('Logical_Switch', [['name', '==', 'fb-1']], { external_ids: { tier: 'c' } })]);
    await until(() => c.cache.lookup('Logical_Switch', 'name', 'fb-2') !== undefined && c.cache.lookup('Logical_Switch', 'name', 'fb-1') === undefined, 5000, 'fallback monitor to follow the condition');
    await w.transact([w.op.update('Logical_Switch', [['name', '==', 'fb-2']], { other_config: { k: 'v' } })]);
    await c.waitFor('Logical_Switch', (s) => s.other_config.k === 'v', 5000);
  });
});
