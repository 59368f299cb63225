// The tessera-cni SHIM executed directly, as a runtime does: VERSION, the 1.1 verbs STATUS and GC (the
// reference cnitool is libcni 1.1.2, which predates them), and every error path with malformed stdin, env
// or config, or a missing/broken agent. The agent is FakeAgent (test double): this tests the shim only.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostVethName } from '../../../lib/cni-protocol.js';
import { FakeAgent } from './fake-agent.js';
import { addNetns, delNetns, execShim, requireBuilt, succeeds, tmpDir, type Run } from '../../../testkit/cni.js';

const tag = String(process.pid % 100000);
const nodeNs = `tcn-n${tag}d`;
const pods = [`tcn-p${tag}d0`, `tcn-p${tag}d1`];
const dir = tmpDir('tcn-direct-');
const agent = new FakeAgent(join(dir, 'agent.sock'), nodeNs, '10.99.1');

const conf = (o: Record<string, unknown> = {}): string =>
  JSON.stringify({ cniVersion: '1.1.0', name: 'tcn-direct', type: 'tessera-cni', agentSocket: agent.socketPath, annotationTimeoutMs: 1000, ovnInstalledTimeoutMs: 1000, ...o });
const env = (command: string, o: Record<string, string | undefined> = {}): Record<string, string | undefined> => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'c0',
  CNI_NETNS: `/var/run/netns/${pods[0]}`,
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=p0',
  ...o,
});

/** A spec error: exit non-zero, exactly one JSON line on stdout with {cniVersion, code, msg[, details]}. */
function assertError(r: Run, code: number, msg: RegExp, cniVersion = '1.1.0'): void {
  assert.notEqual(r.code, 0, `expected failure, got success: ${r.stdout}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `stdout must be one JSON line: ${r.stdout}`);
  const e = JSON.parse(lines[0]) as Record<string, unknown>;
  assert.deepEqual(Object.keys(e).filter((k) => k !== 'details').sort(), ['cniVersion', 'code', 'msg']);
  assert.equal(e.code, code, String(e.msg));
  assert.equal(e.cniVersion, cniVersion);
  assert.match(String(e.msg), msg);
}

describe('cni shim executed directly (FakeAgent)', function () {
  this.timeout(60_000);

  before(async () => {
    requireBuilt();
    mkdirSync(dir, { recursive: true });
    for (const n of [...pods, nodeNs]) await delNetns(n);
    await addNetns(nodeNs);
    for (const p of pods) await addNetns(p);
    await agent.start();
  });

  after(async () => {
    await agent.stop();
    for (const n of [...pods, nodeNs]) await delNetns(n);
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    agent.mode = 'normal';
    agent.ready = true;
  });

  describe('VERSION', () => {
    it('lists the supported versions, answering in the requested one', async () => {
      const r = await execShim({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
      assert.equal(r.code, 0);
      assert.deepEqual(JSON.parse(r.stdout), { cniVersion: '0.4.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] });
    });

    it('needs no other env and tolerates an empty stdin', async () => {
      const r = await execShim({ CNI_COMMAND: 'VERSION' }, '');
      assert.equal(r.code, 0);
      assert.equal((JSON.parse(r.stdout) as { cniVersion: string }).cniVersion, '1.1.0');
    });
  });

  describe('ADD, GC and STATUS with cniVersion 1.1.0', () => {
    it('ADD prints 1.1 attributes (interface mtu)', async () => {
      for (const [i, p] of pods.entries()) {
        const r = await execShim(env('ADD', { CNI_CONTAINERID: `c${i}`, CNI_NETNS: `/var/run/netns/${p}` }), conf({ mtu: 1450 }));
        assert.equal(r.code, 0, r.stdout);
        const res = JSON.parse(r.stdout) as { cniVersion: string; interfaces: { mtu?: number; sandbox?: string }[]; ips: { interface: number }[] };
        assert.equal(res.cniVersion, '1.1.0');
        assert.equal(res.interfaces[1].mtu, 1450);
        assert.equal(res.interfaces[1].sandbox, `/var/run/netns/${p}`);
        assert.equal(res.ips[0].interface, 1);
      }
    });

    it('GC removes attachments missing from cni.dev/valid-attachments and keeps the others', async () => {
      const r = await execShim({ CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' }, conf({ 'cni.dev/valid-attachments': [{ containerID: 'c0', ifname: 'eth0' }] }));
      assert.equal(r.code, 0, r.stdout);
      assert.equal(r.stdout, '');
      assert.deepEqual(agent.last('GC')!.validAttachments, [{ containerId: 'c0', ifname: 'eth0' }]);
      assert.ok(await succeeds('ip', ['-n', nodeNs, 'link', 'show', hostVethName('c0', 'eth0')]), 'valid attachment kept');
      assert.ok(!(await succeeds('ip', ['-n', nodeNs, 'link', 'show', hostVethName('c1', 'eth0')])), 'stale attachment removed');
    });

    it('GC with an empty valid list removes everything', async () => {
      const r = await execShim({ CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' }, conf());
      assert.equal(r.code, 0, r.stdout);
      assert.deepEqual(agent.last('GC')!.validAttachments, []);
      assert.ok(!(await succeeds('ip', ['-n', nodeNs, 'link', 'show', hostVethName('c0', 'eth0')])));
    });

    it('STATUS succeeds silently when the agent is ready', async () => {
      const r = await execShim({ CNI_COMMAND: 'STATUS', CNI_PATH: '/opt/cni/bin' }, conf());
      assert.equal(r.code, 0, r.stdout);
      assert.equal(r.stdout, '');
    });

    it('STATUS: agent not ready -> 50; limited connectivity -> 51 passed through', async () => {
      agent.ready = false;
      assertError(await execShim({ CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }, conf()), 50, /not ready/);
      agent.notReadyCode = 51;
      assertError(await execShim({ CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }, conf()), 51, /not ready/);
      agent.notReadyCode = 50;
    });

    it('STATUS and GC with a pre-1.1 config -> 1', async () => {
      assertError(await execShim({ CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }, conf({ cniVersion: '1.0.0' })), 1, /config version 1\.0\.0 does not allow STATUS/, '1.0.0');
      assertError(await execShim({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }, conf({ cniVersion: '0.4.0' })), 1, /config version 0\.4\.0 does not allow GC/, '0.4.0');
    });

    it('STATUS: agent unreachable -> 50 naming the socket', async () => {
      assertError(await execShim({ CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }, conf({ agentSocket: join(dir, 'none.sock') })), 50, /not available: .*none\.sock/);
    });
  });

  describe('environment errors (code 4, 2)', () => {
    it('no CNI_COMMAND or an unknown one -> 4', async () => {
      assertError(await execShim({ ...env('ADD'), CNI_COMMAND: undefined }, conf()), 4, /CNI_COMMAND is missing/);
      assertError(await execShim(env('FROB'), conf()), 4, /unknown CNI_COMMAND "FROB"/);
    });

    for (const v of ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH']) {
      it(`ADD without ${v} -> 4 naming it, in the config's cniVersion`, async () => {
        assertError(await execShim(env('ADD', { [v]: undefined }), conf({ cniVersion: '1.0.0' })), 4, new RegExp(`${v} is missing`), '1.0.0');
      });
    }

    it('malformed CNI_CONTAINERID / CNI_IFNAME -> 4', async () => {
      assertError(await execShim(env('ADD', { CNI_CONTAINERID: '-x/y' }), conf()), 4, /CNI_CONTAINERID/);
      assertError(await execShim(env('DEL', { CNI_IFNAME: 'eth0/1' }), conf()), 4, /CNI_IFNAME/);
    });

    it('CNI_ARGS: unknown key without IgnoreUnknown -> 2; a pair without "=" -> 4', async () => {
      assertError(await execShim(env('ADD', { CNI_ARGS: 'K8S_POD_NAME=p;FOO=1' }), conf()), 2, /CNI_ARGS key "FOO" is not supported/);
      assertError(await execShim(env('ADD', { CNI_ARGS: 'K8S_POD_NAME' }), conf()), 4, /CNI_ARGS is invalid/);
    });
  });

  describe('stdin and config errors (code 6, 1, 7)', () => {
    it('empty or non-JSON stdin -> 6', async () => {
      assertError(await execShim(env('ADD'), ''), 6, /stdin is empty/);
      assertError(await execShim(env('ADD'), '{"cniVersion": "1.0.0", '), 6, /failed to decode network config/);
    });

    it('unsupported cniVersion -> 1, answered in our latest version', async () => {
      assertError(await execShim(env('ADD'), conf({ cniVersion: '0.3.1' })), 1, /incompatible CNI versions: config is "0\.3\.1"/);
    });

    it('unknown or mistyped field -> 7 naming it', async () => {
      assertError(await execShim(env('ADD'), conf({ cniVersion: '0.4.0', agentsocket: '/x' })), 7, /unknown field "agentsocket"/, '0.4.0');
      assertError(await execShim(env('ADD'), conf({ ovnInstalledTimeoutMs: '5s' })), 7, /field "ovnInstalledTimeoutMs" must be integer/);
      assertError(await execShim(env('ADD'), conf({ runtimeConfig: { portMappings: [{ HostPort: 'x', ContainerPort: 80 }] } })), 7, /runtimeConfig\.portMappings\[0\]\.hostPort/);
    });

    it('CHECK without prevResult -> 7', async () => {
      assertError(await execShim(env('CHECK'), conf()), 7, /CHECK requires field "prevResult"/);
    });
  });

  describe('agent errors (code 3, 5, 11)', () => {
    const prev = { cniVersion: '1.1.0', interfaces: [{ name: 'eth0', sandbox: '/var/run/netns/x' }], ips: [{ address: '10.99.1.9/24', interface: 0 }] };

    it('CHECK of a container the agent does not know -> 3, passed through', async () => {
      assertError(await execShim(env('CHECK', { CNI_CONTAINERID: 'ghost' }), conf({ prevResult: prev })), 3, /ghost .* unknown/);
    });

    it('agent socket missing -> 11 naming the socket', async () => {
      assertError(await execShim(env('ADD'), conf({ agentSocket: join(dir, 'missing.sock') })), 11, /tessera-agent is not reachable at .*missing\.sock \(ENOENT\)/);
    });

    it('nothing listening on the socket path -> 11', async () => {
      const stale = join(dir, 'stale.sock');
      writeFileSync(stale, '');
      assertError(await execShim(env('ADD'), conf({ agentSocket: stale })), 11, /not reachable .*\(ECONNREFUSED\)/);
    });

    it('agent answers garbage or hangs up -> 5', async () => {
      agent.mode = 'garbage';
      assertError(await execShim(env('ADD'), conf()), 5, /invalid JSON/);
      agent.mode = 'close';
      assertError(await execShim(env('ADD'), conf()), 5, /closed the connection without answering ADD/);
    });

    it('agent never answers -> 11 after the bounded ADD timeout (annotation + ovn-installed + margin)', async () => {
      agent.mode = 'hang';
      const r = await execShim(env('ADD'), conf({ annotationTimeoutMs: 0, ovnInstalledTimeoutMs: 0 }));
      assertError(r, 11, /no answer from tessera-agent .* within 12000 ms for ADD/);
      assert.ok(r.ms >= 11_900 && r.ms < 25_000, `took ${r.ms} ms`);
    });

    it('GC with the agent unreachable -> 11', async () => {
      assertError(await execShim({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }, conf({ agentSocket: join(dir, 'missing.sock') })), 11, /not reachable/);
    });
  });

  describe('DEL while the agent is unreachable', () => {
    it('asks the runtime to retry (11) within delUnreachableGraceMs of the first failure, then releases the sandbox', async () => {
      const sockDir = join(dir, 'gone');
      const c = conf({ agentSocket: join(sockDir, 'cni.sock'), delUnreachableGraceMs: 1500 });
      const e = env('DEL', { CNI_CONTAINERID: 'sb-gone', CNI_NETNS: '' });
      assertError(await execShim(e, c), 11, /not reachable.*DEL will be retried \(released without the agent in 2 s\)/);
      assert.deepEqual(readdirSync(join(sockDir, 'del-pending')), ['sb-gone_eth0']);
      assertError(await execShim(e, c), 11, /DEL will be retried/);
      await new Promise((r) => setTimeout(r, 1600));
      const r = await execShim(e, c);
      assert.equal(r.code, 0, r.stdout);
      assert.equal(r.stdout, '');
      assert.ok(!existsSync(join(sockDir, 'del-pending', 'sb-gone_eth0')), 'marker removed');
    });

    it('with delUnreachableGraceMs 0 releases at once', async () => {
      const r = await execShim(env('DEL', { CNI_CONTAINERID: 'sb-now' }), conf({ agentSocket: join(dir, 'missing.sock'), delUnreachableGraceMs: 0 }));
      assert.equal(r.code, 0, r.stdout);
    });
  });
});
