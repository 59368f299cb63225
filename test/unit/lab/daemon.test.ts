// Teardown kills only what the lab started: PIDs from its pidfiles whose command line names its run dir.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, daemonProcesses, livePids, processesNaming, spawnDaemon, stopDaemons } from '../../../lab/daemon.js';
import { waitFor } from '../../../lab/wait.js';

describe('lab daemon bookkeeping', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tle-daemon-'));
    mkdirSync(join(root, 'node1'));
  });
  afterEach(async () => {
    await stopDaemons(root);
    rmSync(root, { recursive: true, force: true });
  });

  it('stops daemons recorded in its pidfiles, in subdirectories too, and removes the pidfiles', async () => {
    const args = ['-e', 'setInterval(() => {}, 1000)', join(root, 'marker')];
    const a = spawnDaemon({ dir: root, name: 'a', cmd: process.execPath, args });
    const b = spawnDaemon({ dir: join(root, 'node1'), name: 'b', cmd: process.execPath, args });
    await waitFor('both running', () => alive(a) && alive(b), 5000);
    assert.deepEqual(livePids(root).sort(), [a, b].sort());
    const killed = await stopDaemons(root);
    assert.deepEqual(killed.sort(), [a, b].sort());
    assert.ok(!alive(a) && !alive(b));
    assert.deepEqual(readdirSync(root).filter((f) => f.endsWith('.pid')), []);
  });

  it('stops a spawned daemon whose arguments name no path (recognised by the dir spawnDaemon puts in its env)', async () => {
    const pid = spawnDaemon({ dir: join(root, 'node1'), name: 'plain', cmd: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] });
    await waitFor('plain running', () => livePids(root).includes(pid), 5000);
    await stopDaemons(root);
    assert.ok(!alive(pid));
  });

  it('stops the helpers a daemon spawned with it, which would otherwise outlive it (tsx\'s esbuild service, ovs-appctl)', async () => {
    const started = join(root, 'helper-started');
    // The helper ignores SIGTERM and outlives its parent, as esbuild does for a moment after its parent's exit.
    const helperScript = "process.on('SIGTERM', () => {}); require('fs').writeFileSync(process.argv[1], ''); setInterval(() => {}, 1000)";
    const pid = spawnDaemon({ dir: join(root, 'node1'), name: 'parent', cmd: process.execPath, args: ['-e',
      "require('child_process').spawn(process.execPath, ['-e', process.argv[1], process.argv[2]], { stdio: 'ignore' }); setInterval(() => {}, 1000)",
      helperScript, started] });
    await waitFor('the helper running', () => existsSync(started) && processesNaming(root).length === 2, 5000);
    const helper = processesNaming(root).find((p) => p !== pid);
    assert.ok(helper !== undefined);
    assert.deepEqual(livePids(root), [pid]);
    assert.deepEqual(daemonProcesses(root).sort(), [pid, helper].sort(), 'the helper counts as the daemon\'s');
    assert.deepEqual(await stopDaemons(root), [pid]);
    assert.deepEqual(processesNaming(root), [], 'nothing naming the run dir is left');
    assert.ok(!alive(helper));
  });

  it('SIGKILLs a daemon that ignores SIGTERM', async () => {
    const ready = join(root, 'ready');
    const pid = spawnDaemon({ dir: root, name: 'stubborn', cmd: process.execPath,
      args: ['-e', "process.on('SIGTERM', () => {}); require('fs').writeFileSync(process.argv[1], 'x'); setInterval(() => {}, 1000)", ready] });
    await waitFor('stubborn ignoring SIGTERM', () => existsSync(ready), 5000);
    const t0 = Date.now();
    await stopDaemons(root);
    assert.ok(!alive(pid));
    assert.ok(Date.now() - t0 >= 4000, 'it got the SIGTERM grace period first');
  });

  it('does not take a sibling directory whose name merely starts with the run dir for its own', async () => {
    const sibling = `${root}x`;
    mkdirSync(sibling);
    try {
      const pid = spawnDaemon({ dir: sibling, name: 'other', cmd: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)', join(sibling, 'marker')] });
      writeFileSync(join(root, 'node1', 'other.pid'), `${pid}\n`);
      assert.deepEqual(livePids(root), []);
      await stopDaemons(root);
      assert.ok(alive(pid));
      await stopDaemons(sibling);
      assert.ok(!alive(pid));
    } finally {
      await stopDaemons(sibling);
      rmSync(sibling, { recursive: true, force: true });
    }
  });

  it('never kills a PID whose command line does not name the run dir (stale pidfile, PID reused)', async () => {
    writeFileSync(join(root, 'node1', 'stale.pid'), `${process.pid}\n`);
    assert.deepEqual(livePids(root), []);
    assert.deepEqual(await stopDaemons(root), []);
    assert.ok(alive(process.pid));
  });
});
