// The CNI plugin logic, laid out like the reference plugins: the network config type and its validation
// first, then cmdAdd, cmdDel, cmdCheck, cmdStatus, cmdGc, cmdVersion. It runs inside tessera-agent on the
// request the native tessera-cni forwards (cni/run.ts): it validates, calls the agent's handlers through
// `call` and converts the answer to the caller's spec version.
import {
  DEFAULT_AGENT_SOCKET,
  DEFAULT_ANNOTATION_TIMEOUT_MS,
  DEFAULT_OVN_INSTALLED_TIMEOUT_MS,
  type AgentCommand,
  type AgentPluginConfig,
  type AgentRequest,
  type AgentResponse,
  type AgentRuntimeConfig,
  type Attachment,
  type CniDns,
  type Result1x,
} from '../lib/cni-protocol.js';
import { validate, type SchemaError } from './config-validator.generated.js';
import { CniError, CniErrorCode } from './errors.js';
import type { CniEnv } from './env.js';
import { LATEST_VERSION, checkVersion, formatResult, isSupportedVersion, mergeResults, parsePrevResult, SUPPORTED_VERSIONS, type ResultOut } from './result.js';

// ---------------------------------------------------------------------------------------------------
// Network configuration

/** The plugin entry of the conflist, as the runtime hands it over (name/cniVersion injected by libcni). */
export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  /** Unix socket of the node's tessera-agent CNI server. */
  agentSocket: string;
  /** Append one line per call here; no logging when unset. Never stdout. */
  logFile?: string;
  /** How long the agent may wait for the watcher's pod-networks annotation. */
  annotationTimeoutMs: number;
  /** How long the agent may wait for ovn-controller to set ovn-installed on the port. */
  ovnInstalledTimeoutMs: number;
  /**
   * DEL while the agent is unreachable: answer "try again later" (11) so the runtime retries, but only
   * for this long after the first failed DEL of an attachment; then succeed, leaving the stale OVS port
   * to the agent's reconcile on start. A sandbox teardown never blocks forever on a dead agent. The
   * native shim (cni/shim/main.c) applies it, since by then no agent is there to ask.
   */
  delUnreachableGraceMs: number;
  mtu?: number;
  dns?: CniDns;
  runtimeConfig?: AgentRuntimeConfig;
  prevResult?: Result1x;
  /** GC (1.1): attachments the runtime still considers valid. */
  validAttachments?: Attachment[];
}

export const DEFAULT_DEL_UNREACHABLE_GRACE_MS = 5 * 60_000;

/** Spec spelling of runtimeConfig keys, by lower-case key: containerd sends some capitalised. */
const RUNTIME_KEYS: Record<string, string> = Object.fromEntries(
  ['portMappings', 'ips', 'mac', 'dns', 'bandwidth', 'ipRanges', 'aliases', 'deviceID', 'cgroupPath', 'infinibandGUID'].map((k) => [k.toLowerCase(), k]),
);
const PORT_MAPPING_KEYS: Record<string, string> = { hostport: 'hostPort', containerport: 'containerPort', protocol: 'protocol', hostip: 'hostIP' };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function renameKeys(o: Record<string, unknown>, names: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[names[k.toLowerCase()] ?? k] = v;
  return out;
}

/** runtimeConfig with keys in spec spelling, matched case-insensitively as Go's encoding/json does. */
export function normalizeRuntimeConfig(rc: Record<string, unknown>): Record<string, unknown> {
  const out = renameKeys(rc, RUNTIME_KEYS);
  if (Array.isArray(out.portMappings)) {
    out.portMappings = out.portMappings.map((m: unknown) => {
      if (!isObject(m)) return m;
      const pm = renameKeys(m, PORT_MAPPING_KEYS);
      if (typeof pm.protocol === 'string') pm.protocol = pm.protocol.toLowerCase();
      else if (pm.protocol === undefined) pm.protocol = 'tcp';
      return pm;
    });
  }
  return out;
}

/** JSON pointer "/runtimeConfig/portMappings/0/hostPort" -> "runtimeConfig.portMappings[0].hostPort". */
function fieldPath(pointer: string, child?: string): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

export function describeSchemaErrors(errors: SchemaError[]): string {
  const msgs = errors.map((e) => {
    if (e.keyword === 'additionalProperties') return `unknown field "${fieldPath(e.instancePath, String(e.params.additionalProperty))}"`;
    if (e.keyword === 'required') return `missing field "${fieldPath(e.instancePath, String(e.params.missingProperty))}"`;
    if (e.keyword === 'enum') return `field "${fieldPath(e.instancePath)}" must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    if (e.keyword === 'pattern' && e.params.pattern === '^/') return `field "${fieldPath(e.instancePath)}" must be an absolute path`;
    return `field "${fieldPath(e.instancePath)}" ${e.message ?? 'is invalid'}`;
  });
  return [...new Set(msgs)].join('; ');
}

/**
 * Decodes and validates the config on stdin: not JSON -> 6, unsupported cniVersion -> 1, a field that is
 * unknown or has the wrong type/range -> 7 naming it. Fills in defaults.
 */
export function loadNetConf(stdin: string): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(CniErrorCode.DecodeFailure, `failed to decode network config: ${(e as Error).message}`);
  }
  if (!isObject(raw)) throw new CniError(CniErrorCode.DecodeFailure, 'failed to decode network config: not a JSON object');
  if (typeof raw.cniVersion === 'string') checkVersion(raw.cniVersion);
  if (isObject(raw.runtimeConfig)) raw.runtimeConfig = normalizeRuntimeConfig(raw.runtimeConfig);
  if (!validate(raw)) {
    throw new CniError(CniErrorCode.InvalidNetworkConfig, `invalid network config: ${describeSchemaErrors(validate.errors ?? [])}`);
  }
  const conf: NetConf = {
    cniVersion: raw.cniVersion as string,
    name: raw.name as string,
    type: raw.type as string,
    agentSocket: (raw.agentSocket as string | undefined) ?? DEFAULT_AGENT_SOCKET,
    annotationTimeoutMs: (raw.annotationTimeoutMs as number | undefined) ?? DEFAULT_ANNOTATION_TIMEOUT_MS,
    ovnInstalledTimeoutMs: (raw.ovnInstalledTimeoutMs as number | undefined) ?? DEFAULT_OVN_INSTALLED_TIMEOUT_MS,
    delUnreachableGraceMs: (raw.delUnreachableGraceMs as number | undefined) ?? DEFAULT_DEL_UNREACHABLE_GRACE_MS,
  };
  if (raw.logFile !== undefined) conf.logFile = raw.logFile as string;
  if (raw.mtu !== undefined) conf.mtu = raw.mtu as number;
  if (raw.dns !== undefined) conf.dns = raw.dns as CniDns;
  if (raw.runtimeConfig !== undefined) conf.runtimeConfig = raw.runtimeConfig as AgentRuntimeConfig;
  if (raw.prevResult !== undefined) conf.prevResult = parsePrevResult(raw.prevResult as Record<string, unknown>);
  const attachments = (raw['cni.dev/valid-attachments'] ?? raw['cni.dev/attachments']) as { containerID: string; ifname: string }[] | undefined;
  if (attachments) conf.validAttachments = attachments.map((a) => ({ containerId: a.containerID, ifname: a.ifname }));
  return conf;
}

// ---------------------------------------------------------------------------------------------------
// Commands

/**
 * Bounds of one command, the same as the native shim's (cni/shim/main.c timeout_for). Margin over the agent's own
 * waits (annotation + ovn-installed): larger than the agent server's own bound (those waits + 10 s) so that
 * the agent's specific error, not a generic timeout, reaches the runtime.
 */
const AGENT_MARGIN_MS = 12_000;
const DEL_TIMEOUT_MS = 30_000;
const GC_TIMEOUT_MS = 60_000;
const STATUS_TIMEOUT_MS = 5_000;

function request(command: AgentCommand, conf: NetConf, env: CniEnv): AgentRequest {
  const config: AgentPluginConfig = { annotationTimeoutMs: conf.annotationTimeoutMs, ovnInstalledTimeoutMs: conf.ovnInstalledTimeoutMs };
  if (conf.mtu !== undefined) config.mtu = conf.mtu;
  if (conf.runtimeConfig) config.runtimeConfig = conf.runtimeConfig;
  const req: AgentRequest = { command, containerId: env.containerId, netns: env.netns, ifname: env.ifname, cniVersion: conf.cniVersion, config };
  const a = env.args;
  if (a.podNamespace !== undefined) req.podNamespace = a.podNamespace;
  if (a.podName !== undefined) req.podName = a.podName;
  if (a.podUid !== undefined) req.podUid = a.podUid;
  if (a.sandboxId !== undefined) req.sandboxId = a.sandboxId;
  if (conf.prevResult) req.prevResult = conf.prevResult;
  return req;
}

/** The agent's handlers, called in-process, bounded by timeoutMs. */
export type AgentCall = (req: AgentRequest, timeoutMs: number) => Promise<AgentResponse>;

/** Sends one request; an agent-side error becomes the CNI error it names. */
async function forward(call: AgentCall, req: AgentRequest, timeoutMs: number): Promise<Result1x | undefined> {
  const res = await call(req, timeoutMs);
  if (!res.ok) throw new CniError(res.code, res.msg, res.details);
  return res.result;
}

export async function cmdAdd(conf: NetConf, env: CniEnv, call: AgentCall): Promise<ResultOut> {
  const timeout = conf.annotationTimeoutMs + conf.ovnInstalledTimeoutMs + AGENT_MARGIN_MS;
  const result = await forward(call, request('ADD', conf, env), timeout);
  if (!result || !Array.isArray(result.interfaces) || !Array.isArray(result.ips)) {
    throw new CniError(CniErrorCode.IoFailure, 'tessera-agent answered ADD without a result carrying interfaces and ips');
  }
  const merged = mergeResults(conf.prevResult, { ...result, cniVersion: conf.cniVersion });
  if ((!merged.dns || Object.keys(merged.dns).length === 0) && conf.dns) merged.dns = conf.dns;
  return formatResult(merged, conf.cniVersion);
}

/** DEL; the del-pending marker of an unreachable agent (delUnreachableGraceMs) is the native shim's. */
export async function cmdDel(conf: NetConf, env: CniEnv, call: AgentCall): Promise<void> {
  await forward(call, request('DEL', conf, env), DEL_TIMEOUT_MS);
}

export async function cmdCheck(conf: NetConf, env: CniEnv, call: AgentCall): Promise<void> {
  if (!conf.prevResult) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'invalid network config: CHECK requires field "prevResult"');
  await forward(call, request('CHECK', conf, env), conf.ovnInstalledTimeoutMs + AGENT_MARGIN_MS);
}

/** GC and STATUS exist from spec 1.1.0 on; an older config must not use them (as libcni's skel answers). */
function requireV11(conf: NetConf, command: string): void {
  if (conf.cniVersion !== '1.1.0') {
    throw new CniError(CniErrorCode.IncompatibleVersion, `config version ${conf.cniVersion} does not allow ${command} (needs 1.1.0)`);
  }
}

/** 1.1 STATUS: success when the agent answers and is ready; otherwise 50 (or the 50-class code it gives). */
export async function cmdStatus(conf: NetConf, env: CniEnv, call: AgentCall): Promise<void> {
  requireV11(conf, 'STATUS');
  try {
    await forward(call, request('STATUS', conf, env), STATUS_TIMEOUT_MS);
  } catch (e) {
    const err = e instanceof CniError ? e : new CniError(CniErrorCode.IoFailure, String(e));
    if (err.code === CniErrorCode.PluginNotAvailable || err.code === CniErrorCode.LimitedConnectivity) throw err;
    throw new CniError(CniErrorCode.PluginNotAvailable, `tessera-cni is not available: ${err.message}`, err.details);
  }
}

/** 1.1 GC: the agent removes ports of sandboxes not in the valid-attachments list. */
export async function cmdGc(conf: NetConf, env: CniEnv, call: AgentCall): Promise<void> {
  requireV11(conf, 'GC');
  const req = request('GC', conf, env);
  req.validAttachments = conf.validAttachments ?? [];
  await forward(call, req, GC_TIMEOUT_MS);
}

/** VERSION: the config on stdin is optional; answer in the requested version when we speak it. */
export function cmdVersion(stdin: string): { cniVersion: string; supportedVersions: string[] } {
  let requested: unknown;
  try {
    requested = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
  } catch {
    requested = undefined;
  }
  return { cniVersion: isSupportedVersion(requested) ? requested : LATEST_VERSION, supportedVersions: [...SUPPORTED_VERSIONS] };
}
