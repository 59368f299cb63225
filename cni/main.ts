// tessera-cni entry point: reads the CNI environment and stdin, dispatches to the command, prints the
// result or the spec error JSON on stdout, appends one log line. All logic lives in plugin.ts.
import { readFileSync, writeSync } from 'node:fs';
import { VERSION } from '../lib/version.js';
import { readCommand, readEnv, type Command, type CniEnv } from './env.js';
import { agentTiming } from './agent-client.js';
import { CniError, CniErrorCode, toErrorJson } from './errors.js';
import { appendLog } from './log.js';
import { cmdAdd, cmdCheck, cmdDel, cmdGc, cmdStatus, cmdVersion, loadNetConf, type NetConf } from './plugin.js';
import { LATEST_VERSION, isSupportedVersion } from './result.js';

const handlers: Record<Exclude<Command, 'VERSION'>, (conf: NetConf, env: CniEnv) => Promise<unknown>> = {
  ADD: cmdAdd,
  DEL: cmdDel,
  CHECK: cmdCheck,
  STATUS: cmdStatus,
  GC: cmdGc,
};

/**
 * Writes to fd 1 directly. process.stdout on a pipe constructs a net.Socket, which loads `net` (~10 ms of
 * start-up) even for VERSION and validation errors; agent calls load it lazily only when they need it.
 */
function writeOut(text: string): void {
  const buf = Buffer.from(text);
  for (let off = 0, spins = 0; off < buf.length; ) {
    try {
      off += writeSync(1, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || ++spins > 10_000) throw e;
    }
  }
}

const elapsedMs = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

/** stdin as text; "" when closed. Falls back to async reads if the fd is non-blocking (EAGAIN). */
async function readStdin(): Promise<string> {
  try {
    return readFileSync(0, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EBADF' || code === 'EINVAL') return '';
    if (code !== 'EAGAIN') throw new CniError(CniErrorCode.IoFailure, `reading stdin: ${(e as Error).message}`);
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
}

/** Best-effort peek at the config, so that even env errors answer in its cniVersion and reach its log. */
function peek(stdin: string): { cniVersion: string; logFile?: string } {
  try {
    const v = JSON.parse(stdin) as { cniVersion?: unknown; logFile?: unknown };
    return { cniVersion: isSupportedVersion(v.cniVersion) ? v.cniVersion : LATEST_VERSION, logFile: typeof v.logFile === 'string' && v.logFile.startsWith('/') ? v.logFile : undefined };
  } catch {
    return { cniVersion: LATEST_VERSION };
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--version')) {
    writeOut(`tessera-cni ${VERSION}\n`);
    return;
  }
  const t0 = process.hrtime.bigint();
  let stdin = '';
  let seen: { cniVersion: string; logFile?: string } = { cniVersion: LATEST_VERSION };
  let env: CniEnv | undefined;
  let command = process.env.CNI_COMMAND ?? '';
  let code = 0;
  let msg: string | undefined;
  try {
    const cmd = readCommand(process.env);
    command = cmd;
    stdin = await readStdin();
    seen = peek(stdin);
    if (cmd === 'VERSION') {
      writeOut(JSON.stringify(cmdVersion(stdin)) + '\n');
      return;
    }
    env = readEnv(cmd, process.env);
    if (stdin.trim() === '') throw new CniError(CniErrorCode.DecodeFailure, 'failed to decode network config: stdin is empty');
    const conf = loadNetConf(stdin);
    const out = await handlers[cmd](conf, env);
    if (out !== undefined) writeOut(JSON.stringify(out) + '\n');
  } catch (e) {
    const err = toErrorJson(seen.cniVersion, e);
    code = err.code;
    msg = err.msg;
    writeOut(JSON.stringify(err) + '\n');
    process.exitCode = 1;
  } finally {
    if (command !== 'VERSION') {
      const pod = env?.args.podNamespace && env.args.podName ? `${env.args.podNamespace}/${env.args.podName}` : undefined;
      appendLog(seen.logFile, { command: command || '-', containerId: env?.containerId, ifname: env?.ifname, pod, ms: elapsedMs(t0), agent: agentTiming, code, msg });
    }
  }
}

main().catch((e: unknown) => {
  // Only reachable if writing stdout itself failed; nothing sensible is left to print.
  process.stderr.write(`tessera-cni: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
