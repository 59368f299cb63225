// The `kube-system/ovn-ic-config` ConfigMap, exactly as Kube-OVN documents it: parsing and validation.
// Every error names the key and the value it refused, so a user can fix the YAML from the Event alone.
import { isIP } from '../../lib/ipnet/index.js';
import { TS_NAME } from '../../lib/ovn/names.js';

export const IC_CONFIGMAP_NAMESPACE = 'kube-system';
export const IC_CONFIGMAP_NAME = 'ovn-ic-config';

export const DEFAULT_IC_NB_PORT = 6645;
export const DEFAULT_IC_SB_PORT = 6646;

/**
 * Keys the documented ConfigMap may carry, and Tessera's `ts-name` (the transit switch to join, default `ts`; one per
 * OpenStack tenant in seed 002's per-tenant variant). Anything else is reported as a warning, not an error.
 */
export const IC_CONFIG_KEYS = ['enable-ic', 'az-name', 'ic-db-host', 'ic-nb-port', 'ic-sb-port', 'gw-nodes', 'auto-route', 'ts-name'] as const;

export interface IcConfig {
  enabled: true;
  azName: string;
  /** One host, or every member of a Raft IC DB cluster, in the order given. */
  icDbHosts: string[];
  icNbPort: number;
  icSbPort: number;
  /** Gateway nodes in HA priority order: the first gets the highest priority. */
  gwNodes: string[];
  autoRoute: boolean;
  /** The transit switch this AZ joins: `ts` unless `ts-name` says otherwise. */
  tsName: string;
}

export type ParsedIcConfig =
  | { ok: true; config: IcConfig | { enabled: false }; warnings: string[] }
  | { ok: false; errors: string[]; warnings: string[] };

// An AZ name becomes part of OVN port names (ts-<az>, <az>-ts), so keep it to a DNS-label-like token.
const AZ_NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
// Kubernetes node names are DNS subdomains (RFC 1123).
const NODE_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HOSTNAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;

function parseBool(key: string, raw: string | undefined, dflt: boolean | undefined, errors: string[]): boolean | undefined {
  if (raw === undefined || raw.trim() === '') {
    if (dflt === undefined) errors.push(`${key} is required ("true" or "false")`);
    return dflt;
  }
  const v = raw.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  errors.push(`${key}: "${raw}" is not "true" or "false"`);
  return undefined;
}

function parsePort(key: string, raw: string | undefined, dflt: number, errors: string[]): number {
  if (raw === undefined || raw.trim() === '') return dflt;
  const v = raw.trim();
  if (!/^[0-9]{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 65535) {
    errors.push(`${key}: "${raw}" is not a TCP port (1..65535)`);
    return dflt;
  }
  return Number(v);
}

function parseList(key: string, raw: string | undefined, errors: string[], check: (item: string) => string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') {
    errors.push(`${key} is required (comma-separated list)`);
    return [];
  }
  const items = raw.split(',').map((s) => s.trim());
  const out: string[] = [];
  for (const item of items) {
    if (item === '') {
      errors.push(`${key}: empty entry in "${raw}"`);
      continue;
    }
    const problem = check(item);
    if (problem) errors.push(`${key}: "${item}" ${problem}`);
    else if (out.includes(item)) errors.push(`${key}: "${item}" is listed twice`);
    else out.push(item);
  }
  return out;
}

function checkHost(h: string): string | undefined {
  const bare = h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  if (isIP(bare)) return undefined;
  if (h.includes(':')) return 'is not an IP address or host name (give only the host; ports go in ic-nb-port/ic-sb-port)';
  if (/^[0-9.]+$/.test(h)) return 'is not a valid IPv4 address';
  return HOSTNAME_RE.test(h) ? undefined : 'is not an IP address or host name';
}

/** Parses ConfigMap data. Never throws: problems come back as messages naming the key. */
export function parseIcConfig(data: Record<string, string> | undefined): ParsedIcConfig {
  const d = data ?? {};
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const k of Object.keys(d)) {
    if (!(IC_CONFIG_KEYS as readonly string[]).includes(k)) warnings.push(`unknown key "${k}" ignored`);
  }
  const enabled = parseBool('enable-ic', d['enable-ic'], undefined, errors);
  if (enabled === undefined) return { ok: false, errors, warnings };
  if (!enabled) return { ok: true, config: { enabled: false }, warnings };

  const azRaw = d['az-name']?.trim() ?? '';
  if (azRaw === '') errors.push('az-name is required (a name unique among the interconnected clusters)');
  else if (!AZ_NAME_RE.test(azRaw)) errors.push(`az-name: "${d['az-name']}" must be 1-63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`);

  const icDbHosts = parseList('ic-db-host', d['ic-db-host'], errors, checkHost).map((h) => (h.startsWith('[') ? h.slice(1, -1) : h));
  if (icDbHosts.length === 2) warnings.push(`ic-db-host: a 2-member Raft IC database stops when either member fails; use 1 or 3`);
  const icNbPort = parsePort('ic-nb-port', d['ic-nb-port'], DEFAULT_IC_NB_PORT, errors);
  const icSbPort = parsePort('ic-sb-port', d['ic-sb-port'], DEFAULT_IC_SB_PORT, errors);
  if (icNbPort === icSbPort) errors.push(`ic-nb-port and ic-sb-port must differ (both ${icNbPort})`);
  const gwNodes = parseList('gw-nodes', d['gw-nodes'], errors, (n) => (NODE_NAME_RE.test(n) && n.length <= 253 ? undefined : 'is not a valid node name'));
  const autoRoute = parseBool('auto-route', d['auto-route'], false, errors) ?? false;
  const tsName = d['ts-name']?.trim() || TS_NAME;
  // The ts name goes into OVN port names (<az>-<ts>, <ts>-<az>) like the AZ name.
  if (!AZ_NAME_RE.test(tsName)) errors.push(`ts-name: "${d['ts-name']}" must be 1-63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`);

  if (errors.length) return { ok: false, errors, warnings };
  return { ok: true, config: { enabled: true, azName: azRaw, icDbHosts, icNbPort, icSbPort, gwNodes, autoRoute, tsName }, warnings };
}

/** The OVSDB remotes of the IC databases: every Raft member, in the order the user gave. */
export function icRemotes(c: IcConfig): { nb: string[]; sb: string[] } {
  const hp = (h: string, p: number): string => (h.includes(':') ? `tcp:[${h}]:${p}` : `tcp:${h}:${p}`);
  return { nb: c.icDbHosts.map((h) => hp(h, c.icNbPort)), sb: c.icDbHosts.map((h) => hp(h, c.icSbPort)) };
}

/** Canonical text of an applied config, stored in NB so a restarted watcher knows what it applied. */
export function fingerprint(c: IcConfig): string {
  return JSON.stringify({
    az: c.azName,
    hosts: c.icDbHosts,
    nb: c.icNbPort,
    sb: c.icSbPort,
    gw: c.gwNodes,
    auto: c.autoRoute,
    // Only a non-default ts is recorded, so configs applied before `ts-name` existed keep their fingerprint.
    ...(c.tsName !== TS_NAME ? { ts: c.tsName } : {}),
  });
}

export function fromFingerprint(s: string | undefined): IcConfig | undefined {
  if (!s) return undefined;
  try {
    const v = JSON.parse(s) as { az: string; hosts: string[]; nb: number; sb: number; gw: string[]; auto: boolean; ts?: string };
    if (typeof v.az !== 'string' || !Array.isArray(v.hosts) || !Array.isArray(v.gw)) return undefined;
    return { enabled: true, azName: v.az, icDbHosts: v.hosts, icNbPort: v.nb, icSbPort: v.sb, gwNodes: v.gw, autoRoute: v.auto === true, tsName: typeof v.ts === 'string' && v.ts ? v.ts : TS_NAME };
  } catch {
    return undefined;
  }
}

/** Human-readable list of what differs between the applied and the requested config. */
export function describeChange(applied: IcConfig, requested: IcConfig | { enabled: false }): string {
  if (!requested.enabled) return 'enable-ic: true -> false';
  const diffs: string[] = [];
  const cmp = (key: string, a: unknown, b: unknown): void => {
    const sa = Array.isArray(a) ? a.join(',') : String(a);
    const sb = Array.isArray(b) ? b.join(',') : String(b);
    if (sa !== sb) diffs.push(`${key}: "${sa}" -> "${sb}"`);
  };
  cmp('az-name', applied.azName, requested.azName);
  cmp('ic-db-host', applied.icDbHosts, requested.icDbHosts);
  cmp('ic-nb-port', applied.icNbPort, requested.icNbPort);
  cmp('ic-sb-port', applied.icSbPort, requested.icSbPort);
  cmp('gw-nodes', applied.gwNodes, requested.gwNodes);
  cmp('auto-route', applied.autoRoute, requested.autoRoute);
  cmp('ts-name', applied.tsName, requested.tsName);
  return diffs.join(', ');
}
