// The CNI server's framing and error answers, against a real unix socket (handler stubbed: no OVS here).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCniServer } from '../../../agent/cni-server.js';
import { createLogger } from '../../../lib/log.js';
import type { AgentRequest, AgentResponse } from '../../../lib/cni-protocol.js';

function exchange(path: string, payload: string | Buffer, end = true): Promise<AgentResponse> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let buf = '';
    s.setEncoding('utf8');
    s.on('connect', () => (end ? s.end(payload) : s.write(payload)));
    s.on('data', (c: string) => (buf += c));
    s.on('error', reject);
    s.on('close', () => {
      try {
        assert.ok(buf.endsWith('\n'), `response not newline-terminated: ${JSON.stringify(buf)}`);
        resolve(JSON.parse(buf) as AgentResponse);
      } catch (e) {
        reject(e);
      }
    });
  });
}

const req = (over: Partial<AgentRequest> = {}): AgentRequest => ({
  command: 'STATUS', containerId: '', netns: '', ifname: '', cniVersion: '1.1.0',
  config: { annotationTimeoutMs: 100, ovnInstalledTimeoutMs: 100 }, ...over,
});

describe('agent CNI server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tag-cnisrv-'));
  const path = join(dir, 'run', 'cni.sock');
  let server: Server;
  const seen: AgentRequest[] = [];
  let hang = false;

  before(async () => {
    server = await startCniServer(path, async (r) => {
      seen.push(r);
      if (hang) await new Promise((res) => setTimeout(res, 60_000).unref());
      return { ok: true };
    }, createLogger('test', { level: 'error' }), { slackMs: 300 });
  });
  after(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates its socket root-only (0600) and passes a valid request line to the handler', async () => {
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(await exchange(path, JSON.stringify(req()) + '\n'), { ok: true });
    assert.equal(seen.at(-1)?.command, 'STATUS');
  });

  const cases: [string, string, RegExp][] = [
    ['not JSON', '{nope\n', /request is not JSON/],
    ['not an object', '[1,2]\n', /request is not a JSON object/],
    ['an unknown command', JSON.stringify(req({ command: 'FROB' as never })) + '\n', /unknown command "FROB"/],
    ['ADD without a netns', JSON.stringify(req({ command: 'ADD', containerId: 'c', ifname: 'eth0' })) + '\n', /ADD needs containerId, ifname and netns/],
    ['no config timeouts', JSON.stringify({ ...req(), config: {} }) + '\n', /annotationTimeoutMs/],
    ['a line without a newline', JSON.stringify(req()), /not terminated by a newline/],
  ];
  for (const [what, payload, re] of cases) {
    it(`answers code 6 (decode failure) for ${what}`, async () => {
      const n = seen.length;
      const r = await exchange(path, payload);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.code, 6);
        assert.match(r.msg, re);
      }
      assert.equal(seen.length, n, 'handler must not run');
    });
  }

  it('bounds a request by its own timeouts: a stuck handler gets code 11, not a hung shim', async () => {
    hang = true;
    const t0 = Date.now();
    const r = await exchange(path, JSON.stringify(req({ config: { annotationTimeoutMs: 200, ovnInstalledTimeoutMs: 0 } })) + '\n');
    hang = false;
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.code, 11);
      assert.match(r.msg, /did not finish within 500 ms/);
    }
    assert.ok(Date.now() - t0 >= 490);
  });
});
