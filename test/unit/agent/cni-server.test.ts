// The CNI server's framing and error answers, against a real unix socket (handler stubbed: no OVS here).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCniServer } from '../../../agent/cni-server.js';
import { createLogger } from '../../../lib/log.js';
import type { AgentRequest, AgentResponse, RawResponse } from '../../../lib/cni-protocol.js';

function exchange<T = AgentResponse>(path: string, payload: string | Buffer, end = true): Promise<T> {
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
        resolve(JSON.parse(buf) as T);
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

  describe('a raw call from the native shim', () => {
    const rawEnv = { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_NETNS: '', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p' };
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'tessera-cni', annotationTimeoutMs: 100, ovnInstalledTimeoutMs: 100 });
    const raw = (env: Record<string, unknown>, stdin: unknown): string => JSON.stringify({ raw: { env, stdin } }) + '\n';

    it('runs the plugin logic in-process: the handler gets the decoded request, the shim gets stdout, exit status and the log line', async () => {
      const r = await exchange<RawResponse>(path, raw(rawEnv, conf));
      assert.deepEqual({ exitCode: r.exitCode, stdout: r.stdout }, { exitCode: 0, stdout: '' });
      assert.match(r.log ?? '', /Z DEL container=c1 ifname=eth0 pod=ns\/p ok ms=\d+\.\d\n$/);
      const got = seen.at(-1)!;
      assert.deepEqual([got.command, got.containerId, got.ifname, got.podNamespace, got.podName, got.cniVersion], ['DEL', 'c1', 'eth0', 'ns', 'p', '1.0.0']);
    });

    it('answers a plugin error as the spec error JSON with exit status 1, without calling the handler', async () => {
      const n = seen.length;
      const r = await exchange<RawResponse>(path, raw({ ...rawEnv, CNI_IFNAME: 'a/b' }, conf));
      assert.equal(r.exitCode, 1);
      assert.deepEqual(JSON.parse(r.stdout), { cniVersion: '1.0.0', code: 4, msg: 'env variable CNI_IFNAME "a/b" is invalid: it must not contain \'/\', \':\' or whitespace' });
      assert.match(r.log ?? '', /DEL error code=4 /);
      assert.equal(seen.length, n);
    });

    it('bounds the in-process call like a socket request: a stuck handler gives 11', async () => {
      hang = true;
      const r = await exchange<RawResponse>(path, raw({ ...rawEnv, CNI_COMMAND: 'STATUS' }, conf.replace('1.0.0', '1.1.0')));
      hang = false;
      assert.equal(r.exitCode, 1);
      const e = JSON.parse(r.stdout) as { code: number; msg: string };
      assert.equal(e.code, 50, e.msg);
      assert.match(e.msg, /STATUS did not finish within 500 ms/);
    });

    for (const [what, env, stdin, re] of [
      ['a non-CNI variable', { PATH: '/bin' }, conf, /raw\.env may only hold CNI_\* strings/],
      ['a non-string stdin', rawEnv, 7, /raw\.stdin must be a string/],
      ['env that is not an object', [1], conf, /raw\.env must be an object/],
    ] as const) {
      it(`refuses ${what} with code 6`, async () => {
        const r = await exchange(path, raw(env as Record<string, unknown>, stdin));
        assert.equal(r.ok, false);
        if (!r.ok) assert.match(r.msg, re);
      });
    }
  });
});
