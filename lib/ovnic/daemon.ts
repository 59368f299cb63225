// The cluster's ovn-ic daemon as a managed child process: own directory (pidfile, unixctl, log, OVN_* env),
// restarted with backoff if it dies, restarted when the IC DB remotes change, stopped cleanly on disable.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import type { Logger } from '../log.js';

export interface OvnIcTargets {
  /** Local OVN NB / SB remotes (unix:, tcp:, ssl:), every Raft member. */
  nb: string[];
  sb: string[];
  /** IC NB / SB remotes, every Raft member. */
  icNb: string[];
  icSb: string[];
}

export interface OvnIcDaemonOptions {
  /** Directory for ovn-ic.pid, ovn-ic.ctl, ovn-ic.log (created). */
  dir: string;
  binary?: string;
  logger?: Logger;
  /** Restart backoff bounds after an unexpected exit. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Extra arguments (e.g. SSL key/cert/CA flags). */
  extraArgs?: string[];
}

/** The daemon's argv: one comma-joined remote list per database, so ovn-ic's IDL finds the Raft leader itself. */
export function ovnIcArgs(dir: string, t: OvnIcTargets, extra: string[] = []): string[] {
  for (const [k, v] of Object.entries(t) as [keyof OvnIcTargets, string[]][]) {
    if (v.length === 0) throw new Error(`ovn-ic: no ${k} remotes`);
  }
  return [
    `--ovnnb-db=${t.nb.join(',')}`,
    `--ovnsb-db=${t.sb.join(',')}`,
    `--ic-nb-db=${t.icNb.join(',')}`,
    `--ic-sb-db=${t.icSb.join(',')}`,
    `--pidfile=${join(dir, 'ovn-ic.pid')}`,
    `--unixctl=${join(dir, 'ovn-ic.ctl')}`,
    `--log-file=${join(dir, 'ovn-ic.log')}`,
    '--no-chdir',
    '-vconsole:off',
    '-vfile:info',
    ...extra,
  ];
}

/** Env that keeps every default path of the daemon inside `dir`. */
export function ovnIcEnv(dir: string): Record<string, string> {
  return {
    OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir, OVS_SYSCONFDIR: dir,
    OVN_RUNDIR: dir, OVN_DBDIR: dir, OVN_LOGDIR: dir, OVN_SYSCONFDIR: dir,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class OvnIcDaemon {
  private child?: ResultPromise;
  private targets?: OvnIcTargets;
  private wanted = false;
  private backoffMs: number;
  private restartTimer?: NodeJS.Timeout;
  /** Times the daemon was (re)started; for status and tests. */
  starts = 0;

  constructor(private readonly o: OvnIcDaemonOptions) {
    this.backoffMs = o.minBackoffMs ?? 500;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get logFile(): string {
    return join(this.o.dir, 'ovn-ic.log');
  }

  /** Runs ovn-ic against `t`; restarts it if it already runs with other targets. */
  async ensure(t: OvnIcTargets): Promise<void> {
    const same = this.targets && JSON.stringify(this.targets) === JSON.stringify(t);
    this.wanted = true;
    this.targets = t;
    if (same && this.child) return;
    if (this.child) await this.kill();
    else await this.reapOrphan();
    this.spawn();
  }

  /**
   * An ovn-ic left running by a predecessor of ours that was killed (SIGKILL skips our cleanup): its pidfile is in
   * our directory and its command line names that pidfile, so it is ours to stop. A recycled PID fails the check.
   */
  private async reapOrphan(): Promise<void> {
    const pidfile = join(this.o.dir, 'ovn-ic.pid');
    let pid: number;
    try {
      pid = Number(readFileSync(pidfile, 'utf8').trim());
    } catch {
      return;
    }
    const mine = (): boolean => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(`--pidfile=${pidfile}`);
      } catch {
        return false;
      }
    };
    if (!Number.isInteger(pid) || pid <= 1 || pid === this.child?.pid || !mine()) return;
    this.o.logger?.warn('stopping an ovn-ic left behind by a previous run', { pid });
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 30 && mine(); i++) await sleep(100);
    if (mine()) process.kill(pid, 'SIGKILL');
  }

  private spawn(): void {
    if (!this.wanted || !this.targets) return;
    mkdirSync(this.o.dir, { recursive: true });
    // The pidfile is ours now (any predecessor was reaped in ensure()); a stale one would only confuse ovn-ic.
    rmSync(join(this.o.dir, 'ovn-ic.pid'), { force: true });
    const args = ovnIcArgs(this.o.dir, this.targets, this.o.extraArgs);
    const child = execa(this.o.binary ?? 'ovn-ic', args, {
      env: ovnIcEnv(this.o.dir), stdio: 'ignore', reject: false, cleanup: true,
    });
    this.child = child;
    this.starts++;
    const started = Date.now();
    this.o.logger?.info('ovn-ic started', { pid: child.pid, args });
    void child.then((r) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (!this.wanted) return;
      // Ran long enough: the failure is new, start again quickly.
      if (Date.now() - started > 30_000) this.backoffMs = this.o.minBackoffMs ?? 500;
      this.o.logger?.warn('ovn-ic exited unexpectedly; restarting', { exitCode: r.exitCode, signal: r.signal, inMs: this.backoffMs, log: this.logFile });
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        this.spawn();
      }, this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, this.o.maxBackoffMs ?? 30_000);
    });
  }

  private async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    child.kill('SIGTERM');
    const done = child.then(() => true);
    if (!(await Promise.race([done, sleep(3000).then(() => false)]))) {
      child.kill('SIGKILL');
      await Promise.race([done, sleep(2000)]);
    }
    this.o.logger?.info('ovn-ic stopped', { pid: child.pid });
  }

  /** Stops ovn-ic and keeps it stopped. */
  async stop(): Promise<void> {
    this.wanted = false;
    this.targets = undefined;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.kill();
  }

  /** Last lines of the daemon's log, for error reports. */
  tail(lines = 5): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}
