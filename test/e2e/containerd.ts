// A containerd of the test's own: its root, state, socket and config under one temporary directory, started in a
// given network namespace (so that `ctr run --net-host` puts containers in that netns) but in the test's mount
// namespace (`ip netns exec` alone remounts /sys, hiding the cgroup mount runc needs), stopped with every task,
// container, shim and mount it started.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, processesNaming, spawnDaemon, stopDaemons } from '../../lab/daemon.js';
import { run, succeeds } from '../../lab/exec.js';
import { waitFor } from '../../lab/wait.js';

const NAMESPACE = 'tessera-test';

/** Mount points under DIR in our mount namespace (snapshots of containers that did not get deleted), deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
}

export class TestContainerd {
  readonly dir = mkdtempSync(join(tmpdir(), 'timg-'));
  readonly socket = join(this.dir, 'containerd.sock');

  constructor(readonly netns: string) {}

  async start(): Promise<void> {
    const config = join(this.dir, 'config.toml');
    mkdirSync(join(this.dir, 'root'));
    mkdirSync(join(this.dir, 'state'));
    writeFileSync(config, [
      'version = 2',
      `root = "${join(this.dir, 'root')}"`,
      `state = "${join(this.dir, 'state')}"`,
      // Only the image store and runc tasks are needed: no CRI, no metrics listener.
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${this.socket}"`,
      '',
    ].join('\n'));
    spawnDaemon({ dir: this.dir, name: 'containerd', netns: this.netns, cmd: 'nsenter', args: [`--mount=/proc/${process.pid}/ns/mnt`, 'containerd', '--config', config] });
    await waitFor('containerd answering', () => succeeds('ctr', ['--address', this.socket, 'version']), 30_000);
  }

  ctr(args: string[], timeoutMs = 60_000): Promise<string> {
    return run('ctr', ['--address', this.socket, '--namespace', NAMESPACE, ...args], { timeoutMs });
  }

  /** Runs IMAGE's ARGS to completion in a fresh container; returns stdout. */
  runOnce(image: string, id: string, args: string[], opts: string[] = []): Promise<string> {
    return this.ctr(['run', '--rm', ...opts, image, id, ...args]);
  }

  /** Kills and deletes every task and container, then containerd, then any shim left naming our socket. */
  async stop(): Promise<void> {
    const list = async (what: 'tasks' | 'containers'): Promise<string[]> => (await this.ctr([what, 'list', '--quiet']).catch(() => '')).split('\n').filter(Boolean);
    for (const id of await list('tasks')) await this.ctr(['tasks', 'kill', '--signal', 'SIGKILL', id]).catch(() => undefined);
    await waitFor('tasks deleted', async () => {
      for (const id of await list('tasks')) await this.ctr(['tasks', 'delete', id]).catch(() => undefined);
      return (await list('tasks')).length === 0;
    }, 15_000).catch(() => undefined);
    for (const id of await list('containers')) await this.ctr(['containers', 'delete', id]).catch(() => undefined);
    await stopDaemons(this.dir);
    for (const pid of processesNaming(this.dir)) {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    for (const m of mountsUnder(this.dir)) await run('umount', ['--lazy', m]).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
