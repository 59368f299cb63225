// External commands for kubectl-tessera: argument arrays only, a timeout, the exit code and both streams kept.
import { execa } from 'execa';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  input?: string;
}

/** Runs `cmd args` to completion; never throws for a non-zero exit (the caller reads `code`). */
export async function execCmd(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await execa(cmd, args, {
    env: opts.env, input: opts.input, stdin: opts.input === undefined ? 'ignore' : undefined,
    timeout: opts.timeoutMs ?? 30_000, reject: false,
  });
  const code = typeof r.exitCode === 'number' ? r.exitCode : 1;
  const stderr = r.timedOut ? `${cmd}: timed out after ${opts.timeoutMs ?? 30_000} ms` : r.stderr;
  return { code, stdout: r.stdout, stderr: stderr || (r.failed && code === 0 ? r.shortMessage ?? '' : '') };
}

/** Like execCmd, but throws with the command and the last lines of its stderr on a non-zero exit. */
export async function execOk(cmd: string, args: string[], opts: ExecOptions = {}): Promise<string> {
  const r = await execCmd(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${[cmd, ...args].join(' ')}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}
