// The CNI_* environment: which variables each command needs (code 4 naming the variable when missing or
// malformed), and CNI_ARGS as containerd sends them:
//   K8S_POD_INFRA_CONTAINER_ID=<id>;K8S_POD_UID=<uid>;IgnoreUnknown=1;K8S_POD_NAMESPACE=<ns>;K8S_POD_NAME=<name>
import { CniError, CniErrorCode } from './errors.js';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'] as const;
export type Command = (typeof COMMANDS)[number];

export interface CniArgs {
  podNamespace?: string;
  podName?: string;
  podUid?: string;
  sandboxId?: string;
}

export interface CniEnv {
  command: Command;
  containerId: string;
  /** "" when the runtime sends no netns (allowed on DEL only). */
  netns: string;
  ifname: string;
  args: CniArgs;
  path: string[];
}

type Env = Record<string, string | undefined>;

const needs: Record<Command, { containerId: boolean; netns: boolean; ifname: boolean; path: boolean }> = {
  ADD: { containerId: true, netns: true, ifname: true, path: true },
  CHECK: { containerId: true, netns: true, ifname: true, path: true },
  DEL: { containerId: true, netns: false, ifname: true, path: true },
  GC: { containerId: false, netns: false, ifname: false, path: true },
  STATUS: { containerId: false, netns: false, ifname: false, path: true },
  VERSION: { containerId: false, netns: false, ifname: false, path: false },
};

const invalidEnv = (msg: string): CniError => new CniError(CniErrorCode.InvalidEnvironment, msg);

export function readCommand(env: Env): Command {
  const c = env.CNI_COMMAND;
  if (!c) throw invalidEnv('required env variable CNI_COMMAND is missing');
  if (!(COMMANDS as readonly string[]).includes(c)) throw invalidEnv(`unknown CNI_COMMAND ${JSON.stringify(c)} (expected one of ${COMMANDS.join(', ')})`);
  return c as Command;
}

/** Same rule as libcni's ValidateContainerID. */
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Same rules as libcni's ValidateInterfaceName: 1-15 bytes, not "." or "..", no '/', ':' or whitespace. */
export function interfaceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (Buffer.byteLength(name) > 15) return 'is longer than 15 bytes';
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  if (/[/:\s]/.test(name)) return "must not contain '/', ':' or whitespace";
  return undefined;
}

export function readEnv(command: Command, env: Env): CniEnv {
  const need = needs[command];
  const get = (name: string, required: boolean): string => {
    const v = env[name];
    if (required && !v) throw invalidEnv(`required env variable ${name} is missing`);
    return v ?? '';
  };
  const containerId = get('CNI_CONTAINERID', need.containerId);
  const netns = get('CNI_NETNS', need.netns);
  const ifname = get('CNI_IFNAME', need.ifname);
  const path = get('CNI_PATH', need.path);
  if (containerId && !CONTAINER_ID.test(containerId)) {
    throw invalidEnv(`env variable CNI_CONTAINERID ${JSON.stringify(containerId)} is invalid: must match ${CONTAINER_ID.source}`);
  }
  if (ifname) {
    const p = interfaceNameProblem(ifname);
    if (p) throw invalidEnv(`env variable CNI_IFNAME ${JSON.stringify(ifname)} is invalid: it ${p}`);
  }
  if (netns && !netns.startsWith('/')) throw invalidEnv(`env variable CNI_NETNS ${JSON.stringify(netns)} is invalid: must be an absolute path`);
  return { command, containerId, netns, ifname, args: parseCniArgs(env.CNI_ARGS ?? ''), path: path ? path.split(':') : [] };
}

const KNOWN_ARGS: Record<string, keyof CniArgs> = {
  K8S_POD_NAMESPACE: 'podNamespace',
  K8S_POD_NAME: 'podName',
  K8S_POD_UID: 'podUid',
  K8S_POD_INFRA_CONTAINER_ID: 'sandboxId',
};

/**
 * Parses CNI_ARGS ("K=V;K=V"). Like libcni's LoadArgs, IgnoreUnknown may appear anywhere in the list
 * (containerd puts it third) and accepts 1/true; without it an unknown key is code 2 (unsupported field).
 */
export function parseCniArgs(raw: string): CniArgs {
  const out: CniArgs = {};
  if (raw === '') return out;
  const pairs: [string, string][] = [];
  for (const part of raw.split(';')) {
    if (part === '') continue; // tolerate a trailing ';'
    const eq = part.indexOf('=');
    if (eq <= 0) throw invalidEnv(`env variable CNI_ARGS is invalid: ${JSON.stringify(part)} is not KEY=VALUE`);
    pairs.push([part.slice(0, eq), part.slice(eq + 1)]);
  }
  const ignoreUnknown = pairs.some(([k, v]) => k === 'IgnoreUnknown' && /^(1|true)$/i.test(v));
  for (const [k, v] of pairs) {
    if (k === 'IgnoreUnknown') continue;
    const field = KNOWN_ARGS[k];
    if (field) out[field] = v;
    else if (!ignoreUnknown) {
      throw new CniError(CniErrorCode.UnsupportedField, `CNI_ARGS key ${JSON.stringify(k)} is not supported (set IgnoreUnknown=1 to ignore unknown keys)`);
    }
  }
  return out;
}
