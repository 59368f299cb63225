// The demo TCP server (lab/pod-server.ts) in a netns: in lab pods, lab VMs and tests' pods. It resolves once the
// server listens, so a TCP check right after it meets the server and not an empty port.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { alive, spawnDaemon } from './daemon.js';
import { run } from './exec.js';
import { REPO_ROOT } from './paths.js';
import { POD_SERVER_PORT } from './report.js';
import { GiveUp, waitFor } from './wait.js';

/** Starts the server in `netns` (pidfile and log in `dir`), greeting as `name`; returns once it listens on `port`. */
export async function startDemoServer(o: { dir: string; netns: string; name: string; port?: number; timeoutMs?: number }): Promise<number> {
  const port = o.port ?? POD_SERVER_PORT;
  mkdirSync(o.dir, { recursive: true });
  const pid = spawnDaemon({ dir: o.dir, name: port === POD_SERVER_PORT ? 'pod-server' : `pod-server-${port}`, netns: o.netns, cwd: REPO_ROOT, cmd: process.execPath,
    args: ['--import', 'tsx', join(REPO_ROOT, 'lab', 'pod-server.ts'), '--name', o.name, '--port', String(port), '--lab-run', o.dir] });
  await waitFor(`demo server ${o.name} listening on :${port} in ${o.netns}`, async () => {
    if (!alive(pid)) throw new GiveUp(`demo server ${o.name} in ${o.netns} exited; see ${o.dir}`);
    return (await run('ss', ['-Htln', `sport = :${port}`], { netns: o.netns })) !== '';
  }, o.timeoutMs ?? 30_000);
  return pid;
}
