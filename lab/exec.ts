// Running external commands for the lab: argument arrays only, bounded by a timeout, optionally inside a netns.
import { execa } from 'execa';

export interface RunOptions {
  /** Run inside this network namespace (`ip netns exec`), else in the caller's. */
  netns?: string;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
  cwd?: string;
}

/** The argv that runs `cmd args` inside `netns` (or as is). `ip netns exec` execs in place, so PIDs stay the program's. */
export function inNetns(netns: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, cmd, ...args]] : [cmd, args];
}

/** Runs a command to completion and returns its trimmed stdout; the error names the command and carries its stderr. */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const [c, a] = inNetns(opts.netns, cmd, args);
  try {
    const r = await execa(c, a, {
      env: opts.env,
      cwd: opts.cwd,
      input: opts.input,
      timeout: opts.timeoutMs ?? 30_000,
      stdin: opts.input === undefined ? 'ignore' : undefined,
    });
    return r.stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; shortMessage?: string; message: string };
    const stderr = (e.stderr ?? '').trim();
    throw new Error(`${[c, ...a].join(' ')}: ${e.shortMessage ?? e.message}${stderr ? `: ${stderr.split('\n').slice(-3).join(' | ')}` : ''}`);
  }
}

/** Like run(), but reports success instead of throwing. */
export async function succeeds(cmd: string, args: string[], opts: RunOptions = {}): Promise<boolean> {
  try {
    await run(cmd, args, opts);
    return true;
  } catch {
    return false;
  }
}
