// A rolling upgrade of a running lab, as `deploy/install.sh` over an older install does it on a cluster: each Tessera
// daemon is stopped (SIGTERM, as the kubelet does) and started again with the same command line from another
// directory of executables (the new image), and waited for until ready before the next one goes.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { alive, findPidfiles, readPid, spawnDaemon } from './daemon.js';
import { run } from './exec.js';
import { GiveUp, sleep, waitFor } from './wait.js';
import { httpOk, AGENT_HEALTH_PORT, WATCHER_HEALTH_PORT } from './tessera.js';
import { GATEWAY_HEALTH_PORT } from './gateway.js';

export type Component = 'watcher' | 'gateway' | 'agent';

/** One running Tessera daemon of the lab, as its pidfile and /proc tell. */
export interface RunningDaemon {
  component: Component;
  /** Daemon name: its pidfile and log are <dir>/<name>.pid and .log. */
  name: string;
  dir: string;
  pid: number;
  netns: string;
  /** The executable's path and its arguments. */
  argv: string[];
}

const HEALTH: Record<Component, { port: number; host: string }> = {
  watcher: { port: WATCHER_HEALTH_PORT, host: '127.0.0.1' },
  agent: { port: AGENT_HEALTH_PORT, host: '127.0.0.1' },
  gateway: { port: GATEWAY_HEALTH_PORT, host: '127.0.0.1' },
};

function componentOf(argv0: string): Component | undefined {
  return (/^tessera-(watcher|agent|gateway)$/.exec(basename(argv0))?.[1] as Component | undefined) ?? undefined;
}

/** The lab's running tessera-watcher, -agent and -gateway processes under `runDir`. */
export async function runningDaemons(runDir: string): Promise<RunningDaemon[]> {
  const out: RunningDaemon[] = [];
  for (const f of findPidfiles(runDir)) {
    const pid = readPid(f);
    if (pid === undefined || !alive(pid)) continue;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    const component = argv[0] ? componentOf(argv[0]) : undefined;
    if (!component) continue;
    const netns = await run('ip', ['netns', 'identify', String(pid)]);
    out.push({ component, name: basename(f, '.pid'), dir: dirname(f), pid, netns, argv });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The version a daemon's executable reports (`--version`). */
export async function versionOf(exe: string): Promise<string> {
  return run(exe, ['--version']);
}

/** Stops `d` as the kubelet would (SIGTERM, SIGKILL after 10 s), starts it from `binDir` and waits until it is ready. */
export async function replaceDaemon(d: RunningDaemon, binDir: string): Promise<RunningDaemon> {
  process.kill(d.pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (alive(d.pid) && Date.now() < deadline) await sleep(50);
  if (alive(d.pid)) process.kill(d.pid, 'SIGKILL');
  while (alive(d.pid)) await sleep(20);
  const [exe, ...args] = d.argv;
  const cmd = join(binDir, basename(exe));
  const pid = spawnDaemon({ dir: d.dir, name: d.name, netns: d.netns, cmd, args });
  const h = HEALTH[d.component];
  await waitFor(`${d.name} (${cmd}) to be ready (log: ${join(d.dir, `${d.name}.log`)})`, async () => {
    if (!alive(pid)) throw new GiveUp(`${d.name} exited after the upgrade; see ${join(d.dir, `${d.name}.log`)}`);
    return httpOk(d.netns, h.port, '/readyz', h.host);
  }, 60_000, 200);
  return { ...d, pid, argv: [cmd, ...args] };
}

/**
 * Rolls every daemon over to `binDir` in the order a cluster upgrade goes (watcher, then gateways, then agents one
 * node at a time); `after` runs once each daemon is ready again (checks that traffic still flows, new pods work).
 */
export async function rollingUpgrade(runDir: string, binDir: string, after: (d: RunningDaemon) => Promise<void>): Promise<RunningDaemon[]> {
  const order: Component[] = ['watcher', 'gateway', 'agent'];
  const daemons = (await runningDaemons(runDir)).sort((a, b) => order.indexOf(a.component) - order.indexOf(b.component) || a.name.localeCompare(b.name));
  const done: RunningDaemon[] = [];
  for (const d of daemons) {
    const next = await replaceDaemon(d, binDir);
    await after(next);
    done.push(next);
  }
  return done;
}
