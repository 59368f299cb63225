// One CNI call as the native tessera-cni forwards it: the raw CNI_* environment and stdin in, the text for
// stdout, the exit status and the log line out. Runs inside tessera-agent; `call` reaches the agent's
// handlers in-process. Dispatch, the error JSON and the log line are the plugin's, as the spec wants them.
import type { RawResponse } from '../lib/cni-protocol.js';
import { readCommand, readEnv, type Command, type CniEnv } from './env.js';
import { CniError, CniErrorCode, toErrorJson } from './errors.js';
import { formatLogLine } from './log.js';
import { cmdAdd, cmdCheck, cmdDel, cmdGc, cmdStatus, cmdVersion, loadNetConf, type AgentCall, type NetConf } from './plugin.js';
import { LATEST_VERSION, isSupportedVersion } from './result.js';

const handlers: Record<Exclude<Command, 'VERSION'>, (conf: NetConf, env: CniEnv, call: AgentCall) => Promise<unknown>> = {
  ADD: cmdAdd,
  DEL: cmdDel,
  CHECK: cmdCheck,
  STATUS: cmdStatus,
  GC: cmdGc,
};

/** Best-effort peek at the config, so that even env errors answer in its cniVersion. */
function peekVersion(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return isSupportedVersion(v) ? v : LATEST_VERSION;
  } catch {
    return LATEST_VERSION;
  }
}

export async function runCni(rawEnv: Record<string, string>, stdin: string, call: AgentCall): Promise<RawResponse> {
  const t0 = performance.now();
  const cniVersion = peekVersion(stdin);
  let env: CniEnv | undefined;
  let command = rawEnv.CNI_COMMAND ?? '';
  let stdout = '';
  let code = 0;
  let msg: string | undefined;
  try {
    const cmd = readCommand(rawEnv);
    command = cmd;
    if (cmd === 'VERSION') return { exitCode: 0, stdout: JSON.stringify(cmdVersion(stdin)) + '\n' };
    env = readEnv(cmd, rawEnv);
    if (stdin.trim() === '') throw new CniError(CniErrorCode.DecodeFailure, 'failed to decode network config: stdin is empty');
    const conf = loadNetConf(stdin);
    const out = await handlers[cmd](conf, env, call);
    if (out !== undefined) stdout = JSON.stringify(out) + '\n';
  } catch (e) {
    const err = toErrorJson(cniVersion, e);
    code = err.code;
    msg = err.msg;
    stdout = JSON.stringify(err) + '\n';
  }
  const pod = env?.args.podNamespace && env.args.podName ? `${env.args.podNamespace}/${env.args.podName}` : undefined;
  const log = formatLogLine({ command: command || '-', containerId: env?.containerId, ifname: env?.ifname, pod, ms: performance.now() - t0, code, msg });
  return { exitCode: code === 0 ? 0 : 1, stdout, log };
}
