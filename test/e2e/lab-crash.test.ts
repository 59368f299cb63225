// `lab/main.ts down` cleans up after an `up` that was killed half-way (SIGKILL, so no cleanup of its own ran).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { alive, processesNaming } from '../../lab/daemon.js';
import { defaultStateDir, startLab, teardownLab } from '../../lab/cluster.js';

const exec = promisify(execFile);
const PREFIX = 'tle-';
const REPO = resolve(import.meta.dirname, '..', '..');
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');
const ourNetns = async (): Promise<string[]> =>
  (await exec('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(PREFIX));

function pidsUnder(dir: string): number[] {
  const out: number[] = [];
  const scan = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) scan(join(d, e.name));
      else if (e.name.endsWith('.pid')) out.push(Number(readFileSync(join(d, e.name), 'utf8').trim()));
    }
  };
  if (existsSync(dir)) scan(dir);
  return out;
}

describe('lab teardown after a crashed up (e2e, prefix tle-)', function () {
  this.timeout(120_000);
  const stateDir = defaultStateDir(PREFIX);
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;

  after(async () => {
    await teardownLab({ prefix: PREFIX });
  });

  it('removes netns, daemons and state left by an up killed mid-way, and is idempotent', async () => {
    // No --state-dir: the CLI must derive the prefix's default state dir by itself, for up and for down.
    const up = spawn(TSX, [join(REPO, 'lab', 'main.ts'), 'up', '--prefix', PREFIX], { cwd: REPO, env, stdio: 'ignore', detached: true });
    const upExit = new Promise<void>((r) => up.on('exit', () => r()));
    // Kill it once daemons run and pods are being wired: the messiest moment.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if ((await ourNetns()).some((n) => n.startsWith(`${PREFIX}pod-`)) && existsSync(join(stateDir, 'run', 'node2', 'ovn-controller.pid'))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(up.pid);
    process.kill(-up.pid, 'SIGKILL');
    await upExit;
    const pids = pidsUnder(join(stateDir, 'run'));
    assert.ok(pids.filter(alive).length >= 6, `daemons left running by the killed up: ${pids.filter(alive).length}`);
    assert.notDeepEqual(await ourNetns(), []);

    for (let i = 0; i < 2; i++) {
      const r = await exec(TSX, [join(REPO, 'lab', 'main.ts'), 'down', '--prefix', PREFIX], { cwd: REPO, env, timeout: 60_000 });
      assert.doesNotMatch(r.stderr, /warning/);
      assert.deepEqual(await ourNetns(), []);
      assert.deepEqual(pids.filter(alive), []);
      assert.deepEqual(processesNaming(stateDir), []);
      assert.ok(!existsSync(join(stateDir, 'run')));
    }
  });

  it('a start that fails half-way (a pod in a namespace that does not exist) removes what it made', async () => {
    await assert.rejects(startLab({ prefix: PREFIX, nodes: 2, pods: [
      { namespace: 'default', name: 'fine', node: 'node1' },
      { namespace: 'nosuchns', name: 'doomed', node: 'node2' },
    ] }), /nosuchns|404|not found/i);
    assert.deepEqual(await ourNetns(), []);
    assert.ok(!existsSync(join(stateDir, 'run')));
    assert.deepEqual(processesNaming(stateDir), [], 'no process of the failed lab left');
  });
});
