// Daemon bookkeeping: one directory per daemon set, pidfiles we own, and teardown that only kills those PIDs.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNetns } from './exec.js';
import { sleep } from './wait.js';

/** Env that points every OVS/OVN default path at `dir`, so daemon sets coexist and /var/run/openvswitch stays untouched. */
export function daemonEnv(dir: string): Record<string, string> {
  return {
    OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir, OVS_SYSCONFDIR: dir, OVS_PKGDATADIR: '/usr/share/openvswitch',
    OVN_RUNDIR: dir, OVN_DBDIR: dir, OVN_LOGDIR: dir, OVN_SYSCONFDIR: dir,
  };
}

/** Flags every OVS/OVN daemon gets: explicit pidfile, log file, detach; `unixctl` where the daemon supports it. */
export function daemonFlags(dir: string, name: string, unixctl = true): string[] {
  return [
    `--pidfile=${join(dir, `${name}.pid`)}`,
    ...(unixctl ? [`--unixctl=${join(dir, `${name}.ctl`)}`] : []),
    `--log-file=${join(dir, `${name}.log`)}`,
    '--detach', '--no-chdir', '-vconsole:off',
  ];
}

/** True if PID exists and is not a zombie (PID 1 here reaps orphans only every 1-2 s, so kill -0 misleads). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised comm (which may itself contain spaces or parentheses).
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** Env var spawnDaemon() gives every child: its daemon dir, so teardown can recognise it whatever its argv. */
export const LAB_DIR_ENV = 'TESSERA_LAB_DIR';

function environ(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** True if `s` contains `dir` followed by "/" or by nothing (so /run/a never matches /run/ab). */
function namesPathIn(s: string, dir: string): boolean {
  for (let i = s.indexOf(dir); i >= 0; i = s.indexOf(dir, i + 1)) {
    const next = s[i + dir.length];
    if (next === undefined || next === '/') return true;
  }
  return false;
}

/**
 * Whether PID is one of the lab's daemons under `root`: OVS/OVN daemons name their pidfile/socket/log (inside the
 * run dir) on their command line; spawnDaemon() children carry LAB_DIR_ENV. A reused PID has neither.
 */
function startedUnder(pid: number, root: string): boolean {
  const r = root.replace(/\/+$/, '');
  if (cmdline(pid).some((arg) => namesPathIn(arg, r))) return true;
  const marker = `${LAB_DIR_ENV}=`;
  return environ(pid).some((e) => e.startsWith(marker) && namesPathIn(e.slice(marker.length), r));
}

/**
 * Live processes whose command line names a path inside `dir`, found by scanning /proc rather than pidfiles:
 * what a leaked lab daemon looks like. For checks and reports only; teardown kills from pidfiles.
 */
export function processesNaming(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid !== process.pid && startedUnder(pid, dir) && alive(pid)) out.push(pid);
  }
  return out;
}

/** "pid N (ppid P): argv", for messages about unexpected processes; "pid N: gone" once it has exited. */
export function describeProcess(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    return `pid ${pid} (ppid ${ppid}): ${cmdline(pid).join(' ').trim()}`;
  } catch {
    return `pid ${pid}: gone`;
  }
}

export function readPid(pidfile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a long-running program that does not daemonize itself, detached from us, with stdout+stderr in
 * `<dir>/<name>.log` and its PID in `<dir>/<name>.pid`. Returns the PID.
 */
export function spawnDaemon(o: { dir: string; name: string; netns?: string; cmd: string; args: string[]; env?: Record<string, string>; cwd?: string }): number {
  const log = openSync(join(o.dir, `${o.name}.log`), 'a');
  const [c, a] = inNetns(o.netns, o.cmd, o.args);
  // NODE_EXTRA_CA_CERTS costs every Node start ~60 ms and the lab talks to nothing that needs it.
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env, [LAB_DIR_ENV]: o.dir };
  delete env.NODE_EXTRA_CA_CERTS;
  const child = spawn(c, a, { detached: true, stdio: ['ignore', log, log], env, cwd: o.cwd });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${o.name} (${o.cmd})`);
  child.unref();
  writeFileSync(join(o.dir, `${o.name}.pid`), `${child.pid}\n`);
  return child.pid;
}

/** Every pidfile under `root` (root itself and four levels of daemon directories, e.g. run/pods/<netns>/, or run/az1/run/central/ovn-ic/ of a multi-cluster lab). */
export function findPidfiles(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const scan = (d: string, depth: number): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const st = statSync(p);
      if (st.isDirectory() && depth > 0) scan(p, depth - 1);
      else if (st.isFile() && e.endsWith('.pid')) out.push(p);
    }
  };
  scan(root, 4);
  return out;
}

/** PIDs recorded in pidfiles under `root` that are alive and whose command line names `root` (guards against PID reuse). */
export function livePids(root: string): number[] {
  const pids: number[] = [];
  for (const f of findPidfiles(root)) {
    const pid = readPid(f);
    if (pid !== undefined && alive(pid) && startedUnder(pid, root)) pids.push(pid);
  }
  return pids;
}

/** The process group of PID (field 5 of /proc/<pid>/stat), or undefined once it has exited. */
function pgidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

/**
 * Live processes under `root` in the process group a recorded daemon leads, other than the daemon itself: the
 * helpers it spawned (tsx's esbuild service, an agent's ovs-appctl), which outlive it unless stopped with it.
 * spawnDaemon() children lead their own group (detached) and OVS daemons call setsid(), so the group is theirs.
 */
function groupMembers(root: string, leaders: number[]): number[] {
  if (leaders.length === 0) return [];
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    const pgid = pgidOf(pid);
    if (pgid !== undefined && pid !== pgid && leaders.includes(pgid) && alive(pid) && startedUnder(pid, root)) out.push(pid);
  }
  return out;
}

/** Recorded daemons under `root` and the helpers in their process groups: every process stopDaemons() stops. */
export function daemonProcesses(root: string): number[] {
  const leaders = livePids(root).filter((pid) => pgidOf(pid) === pid);
  return [...livePids(root), ...groupMembers(root, leaders)];
}

/** SIGTERM `pids`, wait (bounded by `graceMs`) for them to go, SIGKILL survivors and wait for those. */
async function terminate(pids: number[], graceMs: number): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    for (const pid of pids.filter(alive)) {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  for (let i = 0; i < graceMs / 100 && pids.some(alive); i++) await sleep(100);
  signal('SIGKILL');
  for (let i = 0; i < 20 && pids.some(alive); i++) await sleep(100);
}

/**
 * SIGTERM every live daemon recorded under `root`, wait (bounded) for them to go, SIGKILL survivors, then the same
 * for what is left of their process groups; remove the pidfiles. `first` names daemon pidfile basenames to stop
 * before the rest (clients before servers).
 */
export async function stopDaemons(root: string, first: string[] = []): Promise<number[]> {
  const files = findPidfiles(root);
  const early = files.filter((f) => first.some((n) => f.endsWith(`/${n}.pid`)));
  const late = files.filter((f) => !early.includes(f));
  const killed: number[] = [];
  for (const group of [early, late]) {
    const pids: number[] = [];
    for (const f of group) {
      const pid = readPid(f);
      if (pid !== undefined && alive(pid) && startedUnder(pid, root)) pids.push(pid);
    }
    // Groups are read before the leaders go: a helper outlives its daemon, and the group outlives its leader.
    const leaders = pids.filter((pid) => pgidOf(pid) === pid);
    await terminate(pids, 5000);
    await terminate(groupMembers(root, leaders), 2000);
    killed.push(...pids);
  }
  for (const f of files) {
    try {
      unlinkSync(f);
    } catch {
      /* already gone */
    }
  }
  return killed;
}
