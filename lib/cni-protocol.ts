// The wire protocol of the tessera-agent CNI server. One connection per call: the client writes ONE JSON
// line, the agent answers ONE JSON line and closes. Two kinds of request:
// - RawRequest, from the native tessera-cni (cni/shim/main.c): the CNI_* environment and stdin as the runtime
//   gave them; the agent runs the plugin logic (cni/run.ts) and answers a RawResponse.
// - AgentRequest, already validated and decoded (the plugin logic's own calls, tests): an AgentResponse.
// Dependency-free (only node builtins): the agent, the plugin logic and the tests import it.
import { createHash } from 'node:crypto';

export const DEFAULT_AGENT_SOCKET = '/var/run/tessera/cni.sock';
export const DEFAULT_ANNOTATION_TIMEOUT_MS = 30_000;
export const DEFAULT_OVN_INSTALLED_TIMEOUT_MS = 20_000;
/** Upper bound for one AgentRequest or response line; anything longer is a protocol error. */
export const MAX_LINE_BYTES = 1 << 20;
/** The native shim's bounds (cni/shim/main.c): stdin, and each forwarded CNI_* value. */
export const MAX_STDIN_BYTES = 1 << 20;
export const MAX_ENV_VALUE_BYTES = 64 << 10;
/** Upper bound for one RawRequest line: stdin and env as JSON strings, each byte escaped at most 6-fold. */
export const MAX_RAW_LINE_BYTES = 8 << 20;

/** CNI spec error codes (SPEC.md "Error"); the agent answers with these, the shim passes them through. */
export const CniErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodeFailure: 6,
  InvalidNetworkConfig: 7,
  TryAgainLater: 11,
  /** STATUS only: the plugin cannot serve ADDs now (agent not ready). */
  PluginNotAvailable: 50,
  /** STATUS only: limited connectivity (e.g. ADD works, some pod traffic does not). */
  LimitedConnectivity: 51,
} as const;

/** A failure carrying a CNI error code: the shim prints it as the spec's error JSON, the agent answers with it. */
export class CniError extends Error {
  constructor(
    readonly code: number,
    msg: string,
    readonly details?: string,
  ) {
    super(msg);
    this.name = 'CniError';
  }
}

export type AgentCommand = 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS';

// ---- CNI 1.x result (the agent always speaks 1.x; the shim converts for 0.4.0 callers) ----

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  /** Netns path for interfaces inside the container; absent for host-side interfaces. */
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}

export interface CniIpConfig {
  /** CIDR notation, "10.244.1.5/24". */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface Result1x {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: CniRoute[];
  dns?: CniDns;
}

// ---- runtimeConfig, normalised by the shim ----

/** One port mapping; the shim lower-camel-cases containerd's `HostPort`/`ContainerPort`/`Protocol`/`HostIP`. */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: string;
  hostIP?: string;
}

/**
 * runtimeConfig as the agent receives it: keys normalised to the spec's lower-camel spelling
 * (`portMappings`, `ips`, `mac`, `bandwidth`, ...), whatever case the runtime used.
 */
export interface AgentRuntimeConfig {
  portMappings?: PortMapping[];
  ips?: string[];
  mac?: string;
  [key: string]: unknown;
}

export interface AgentPluginConfig {
  annotationTimeoutMs: number;
  ovnInstalledTimeoutMs: number;
  mtu?: number;
  runtimeConfig?: AgentRuntimeConfig;
}

export interface Attachment {
  containerId: string;
  ifname: string;
}

export interface AgentRequest {
  command: AgentCommand;
  /** CNI_CONTAINERID; "" for GC and STATUS. */
  containerId: string;
  /** CNI_NETNS; "" on DEL when the runtime already removed the netns, and for GC/STATUS. */
  netns: string;
  /** CNI_IFNAME; "" for GC and STATUS. */
  ifname: string;
  /** From CNI_ARGS K8S_POD_NAMESPACE / K8S_POD_NAME / K8S_POD_UID / K8S_POD_INFRA_CONTAINER_ID. */
  podNamespace?: string;
  podName?: string;
  podUid?: string;
  sandboxId?: string;
  /** The caller's cniVersion (already negotiated by the shim). */
  cniVersion: string;
  config: AgentPluginConfig;
  /** CHECK and DEL (and ADD in a chain): the previous result, converted to 1.x by the shim. */
  prevResult?: Result1x;
  /** GC only: every attachment the runtime still considers valid for this network. */
  validAttachments?: Attachment[];
}

export interface AgentOk {
  ok: true;
  /** ADD: the result (1.x shape). Other commands: absent. */
  result?: Result1x;
}

export interface AgentError {
  ok: false;
  code: number;
  msg: string;
  details?: string;
}

export type AgentResponse = AgentOk | AgentError;

/** What the native shim forwards: every CNI_* variable, and stdin as text. */
export interface RawRequest {
  raw: { env: Record<string, string>; stdin: string };
}

/** What the native shim prints and exits with; `log` is the line it appends to the config's logFile. */
export interface RawResponse {
  exitCode: number;
  stdout: string;
  log?: string;
}

/** Whether a parsed line is a RawRequest; returns an error message for a malformed one, undefined for a good one. */
export function checkRawRequest(v: Record<string, unknown>): string | undefined {
  const raw = v.raw as Record<string, unknown> | null;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'field raw must be an object';
  if (typeof raw.stdin !== 'string') return 'field raw.stdin must be a string';
  const env = raw.env as Record<string, unknown> | null;
  if (typeof env !== 'object' || env === null || Array.isArray(env)) return 'field raw.env must be an object';
  for (const [k, val] of Object.entries(env)) {
    if (!k.startsWith('CNI_') || typeof val !== 'string') return `raw.env may only hold CNI_* strings, not ${JSON.stringify(k)}`;
  }
  return undefined;
}

/**
 * Host-side veth name for an attachment: deterministic, so DEL finds it without the netns.
 * "veth" + 11 hex chars of sha256("<containerId>/<ifname>") = 15 chars (IFNAMSIZ - 1).
 * Also the OVS port and interface name.
 */
export function hostVethName(containerId: string, ifname: string): string {
  return 'veth' + createHash('sha256').update(`${containerId}/${ifname}`).digest('hex').slice(0, 11);
}

/** Minimal structural check of a request line, for the agent side; returns an error message or undefined. */
export function checkAgentRequest(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'request is not a JSON object';
  const r = v as Record<string, unknown>;
  if (!['ADD', 'DEL', 'CHECK', 'GC', 'STATUS'].includes(r.command as string)) return `unknown command ${JSON.stringify(r.command)}`;
  for (const k of ['containerId', 'netns', 'ifname', 'cniVersion'] as const) {
    if (typeof r[k] !== 'string') return `field ${k} must be a string`;
  }
  const c = r.config as Record<string, unknown> | undefined;
  if (typeof c !== 'object' || c === null) return 'field config must be an object';
  if (typeof c.annotationTimeoutMs !== 'number' || typeof c.ovnInstalledTimeoutMs !== 'number') {
    return 'config.annotationTimeoutMs and config.ovnInstalledTimeoutMs must be numbers';
  }
  if (r.command === 'ADD' || r.command === 'CHECK') {
    if (!r.containerId || !r.ifname || !r.netns) return `${String(r.command)} needs containerId, ifname and netns`;
  }
  if (r.command === 'DEL' && (!r.containerId || !r.ifname)) return 'DEL needs containerId and ifname';
  if (r.validAttachments !== undefined && !Array.isArray(r.validAttachments)) return 'field validAttachments must be an array';
  return undefined;
}
