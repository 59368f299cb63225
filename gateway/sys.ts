// Runs host tools (ip, ovs-vsctl, ovs-ofctl, ethtool) as argument arrays and turns failures into errors that name the command.
import { execa } from 'execa';

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly stderr: string,
    readonly exitCode: number | undefined,
  ) {
    super(`${argv.join(' ')} failed${exitCode !== undefined ? ` (exit ${exitCode})` : ''}: ${stderr.trim() || 'no output'}`);
  }
}

/** Runs `cmd args...` with a bounded timeout; resolves with stdout, throws CommandError otherwise. */
export async function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const res = await execa(cmd, args, {
    reject: false,
    timeout: opts.timeoutMs ?? 30_000,
    input: opts.input,
    stripFinalNewline: false,
  });
  if (res.exitCode !== 0 || res.timedOut || res.failed) {
    const why = res.timedOut ? `timed out after ${opts.timeoutMs ?? 30_000} ms` : String(res.stderr || res.message || '');
    throw new CommandError([cmd, ...args], why, res.exitCode);
  }
  return String(res.stdout);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes. */
export async function poll(what: string, timeoutMs: number, check: () => Promise<boolean>, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
