// The native tessera-cni's own answers (cni/shim/main.c), where the agent cannot answer: VERSION without an
// agent, an unreachable agent (no socket, a socket nobody listens on), an agent that accepts and never
// answers, malformed or oversize answers, oversize stdin and env, the log line it writes itself, and the
// del-pending marker. The agent side is FakeAgent (real CNI server, test-double handlers).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_STDIN_BYTES } from '../../../lib/cni-protocol.js';
import { FakeAgent } from './fake-agent.js';
import { addNetns, delNetns, execShim, requireBuilt, SHIM, tmpDir, type Run } from '../../../testkit/cni.js';

const tag = String(process.pid % 100000);
const nodeNs = `tcn-n${tag}s`;
const podNs = `tcn-p${tag}s`;
const dir = tmpDir('tcn-native-');
const logFile = join(dir, 'cni.log');
const agent = new FakeAgent(join(dir, 'agent.sock'), nodeNs, '10.99.2');

const conf = (o: Record<string, unknown> = {}): string =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'tcn-native', type: 'tessera-cni', agentSocket: agent.socketPath, logFile, annotationTimeoutMs: 1000, ovnInstalledTimeoutMs: 1000, ...o });
const env = (command: string, o: Record<string, string | undefined> = {}): Record<string, string | undefined> => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'n0',
  CNI_NETNS: `/var/run/netns/${podNs}`,
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=n0',
  ...o,
});

function assertError(r: Run, code: number, msg: RegExp, cniVersion = '1.0.0'): void {
  assert.equal(r.code, 1, `expected exit 1: ${r.stdout}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `stdout must be one JSON line: ${r.stdout}`);
  const e = JSON.parse(lines[0]) as Record<string, unknown>;
  assert.deepEqual(Object.keys(e).sort(), ['cniVersion', 'code', 'msg']);
  assert.equal(e.code, code, String(e.msg));
  assert.equal(e.cniVersion, cniVersion);
  assert.match(String(e.msg), msg);
}

describe('cni shim: its own answers (native tessera-cni)', function () {
  this.timeout(60_000);

  before(async () => {
    requireBuilt();
    mkdirSync(dir, { recursive: true });
    for (const n of [podNs, nodeNs]) await delNetns(n);
    await addNetns(nodeNs);
    await addNetns(podNs);
    await agent.start();
  });

  after(async () => {
    await agent.stop();
    for (const n of [podNs, nodeNs]) await delNetns(n);
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    agent.mode = 'normal';
  });

  it('is a small static executable: no interpreter, no Node', () => {
    assert.ok(statSync(SHIM).size < 2_000_000, `${statSync(SHIM).size} bytes`);
    const ldd = spawnSync('ldd', [SHIM], { encoding: 'utf8' });
    assert.match(ldd.stdout + ldd.stderr, /not a dynamic executable/);
    assert.match(spawnSync(SHIM, ['--version'], { encoding: 'utf8' }).stdout, /^tessera-cni \d+\.\d+\.\d+/);
  });

  it('VERSION needs no agent: answers with the socket missing, in the requested version', async () => {
    const r = await execShim({ CNI_COMMAND: 'VERSION' }, conf({ cniVersion: '0.4.0', agentSocket: join(dir, 'missing.sock') }));
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(JSON.parse(r.stdout), { cniVersion: '0.4.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] });
  });

  it('finds agentSocket among the top-level members only, JSON escapes decoded', async () => {
    const nested = { name: 'tcn-native', runtimeConfig: { agentSocket: '/nowhere.sock' } };
    const escaped = JSON.stringify(JSON.parse(conf(nested))).replace(`"agentSocket":"${agent.socketPath}"`, `"agentSocket":"${agent.socketPath.replace(/\//g, '\\/')}"`);
    assert.match(escaped, /\\\//);
    const r = await execShim(env('ADD'), escaped);
    assert.equal(r.code, 0, r.stdout);
    assert.equal(agent.last('ADD')?.containerId, 'n0');
  });

  it('socket with nothing listening (its server killed) -> 11 ECONNREFUSED, logged by the shim', async () => {
    const dead = join(dir, 'dead.sock');
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(dead)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    assert.ok(existsSync(dead), 'the killed server left its socket file');
    assertError(await execShim(env('ADD', { CNI_CONTAINERID: 'refused1' }), conf({ agentSocket: dead })), 11, /tessera-agent is not reachable at .*dead\.sock \(ECONNREFUSED\)/);
    assert.match(readFileSync(logFile, 'utf8'), /Z ADD container=refused1 ifname=eth0 error code=11 ms=\d+\.\d msg="tessera-agent is not reachable at [^"]*dead\.sock \(ECONNREFUSED\)/);
  });

  it('STATUS with the agent silent -> 50 after its 5 s bound', async () => {
    agent.mode = 'hang';
    const r = await execShim({ CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }, conf({ cniVersion: '1.1.0' }));
    assertError(r, 50, /tessera-cni is not available: no answer from tessera-agent .* within 5000 ms for STATUS/, '1.1.0');
    assert.ok(r.ms >= 4900 && r.ms < 15_000, `took ${r.ms} ms`);
  });

  it('an answer of the wrong shape -> 5', async () => {
    agent.mode = 'shapeless';
    assertError(await execShim(env('ADD'), conf()), 5, /answered without an integer "exitCode" and a string "stdout"/);
  });

  it('an answer without end beyond 4 MiB -> 5', async () => {
    agent.mode = 'endless';
    assertError(await execShim(env('ADD'), conf()), 5, /answer from tessera-agent exceeds 4194304 bytes/);
  });

  it('stdin above 1 MiB -> 6 without asking the agent', async () => {
    const before = agent.requests.length;
    const big = conf().replace(/}$/, `,"x":"${'a'.repeat(MAX_STDIN_BYTES)}"}`);
    assertError(await execShim(env('ADD'), big), 6, /stdin exceeds 1048576 bytes/);
    assert.equal(agent.requests.length, before);
  });

  it('a CNI_* value above 64 KiB -> 4 naming it', async () => {
    assertError(await execShim(env('ADD', { CNI_ARGS: `IgnoreUnknown=1;X=${'a'.repeat(70_000)}` }), conf()), 4, /env variable CNI_ARGS exceeds 65536 bytes/);
  });

  it('a successful DEL through the agent removes the del-pending marker of an earlier unreachable DEL', async () => {
    const marker = join(dir, 'del-pending', 'gone2_eth0');
    const e = env('DEL', { CNI_CONTAINERID: 'gone2', CNI_NETNS: '' });
    mkdirSync(join(dir, 'del-pending'), { recursive: true });
    writeFileSync(marker, String(Date.now()));
    const r = await execShim(e, conf());
    assert.equal(r.code, 0, r.stdout);
    assert.equal(agent.last('DEL')?.containerId, 'gone2');
    assert.ok(!existsSync(marker), 'marker removed');
  });

  it('DEL with the agent unreachable and a malformed CNI_CONTAINERID -> 4, no marker written', async () => {
    const sock = join(dir, 'g3', 'cni.sock');
    assertError(await execShim(env('DEL', { CNI_CONTAINERID: '../x' }), conf({ agentSocket: sock })), 4, /CNI_CONTAINERID is invalid/);
    assert.ok(!existsSync(join(dir, 'g3')));
  });
});
