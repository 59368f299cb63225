// tessera-watcher configuration: flags → typed config, checked by an ajv schema (shape) and then
// semantically (CIDRs parse, families agree, ranges do not overlap, subnets fit). Every refusal is one
// line naming the flag, raised as ConfigError so runMain prints it and exits 2.
import { Ajv } from 'ajv';
import { parseVlanRange, type VlanRange } from './nested/vlan-tags.js';
import { ConfigError, type CommandSpec, type ParsedCommand } from '../lib/cli.js';
import { parseCIDR, overlaps, formatCIDR, subnetCount, bitsOf, IPNetError, type IPNet } from '../lib/ipnet/index.js';
import { OVSDB_TLS_FLAGS, parseOvsdbTls } from '../lib/ovsdb-tls-flags.js';
import { CONFIG_FLAG } from '../lib/config-file.js';
import type { TlsOptions } from '../lib/ovsdb/remote.js';
import { NEUTRON_PORT_FLAGS, parseNeutronPortsConfig, type NeutronPortsConfig } from './neutron-ports/config.js';
import { parseProtectedEndpoints, parseProtectedNodePorts, type ProtectedEndpoint } from './policy/protected-endpoints.js';

export const WATCHER_SPEC: CommandSpec = {
  name: 'tessera-watcher',
  summary: 'turns the Kubernetes cluster into OVN Northbound state (master-init, IPAM, pods, services, network policy)',
  usage: 'tessera-watcher [master-init] --nb REMOTES (--kube-api URL --kube-token-file PATH | --kubeconfig PATH) [flags]',
  positionals: true,
  flags: {
    'kube-api': { type: 'string', help: 'Kubernetes API server URL' },
    'kube-token-file': { type: 'string', help: 'file holding the bearer token for --kube-api (re-read when it changes)' },
    kubeconfig: { type: 'string', help: 'path to a kubeconfig file (instead of --kube-api/--kube-token-file)' },
    nb: { type: 'string', help: 'OVN Northbound remotes, comma separated (unix:PATH, tcp:IP:PORT, ssl:IP:PORT)' },
    'cluster-cidr': { type: 'string', help: 'pod network CIDR, carved into node subnets', default: '10.244.0.0/16' },
    'node-subnet-prefix': { type: 'string', help: 'prefix length of each node subnet', default: '24' },
    'service-cidr': { type: 'string', help: 'ClusterIP service CIDR', default: '10.96.0.0/16' },
    'join-cidr': { type: 'string', help: 'CIDR of the join switch between cluster router and gateway routers', default: '100.64.0.0/16' },
    sb: { type: 'string', help: 'OVN Southbound remotes (comma list); enables the OVN-IC interconnect controller (kube-system/ovn-ic-config)' },
    'run-dir': { type: 'string', help: 'state directory (the managed ovn-ic daemon lives in <run-dir>/ovn-ic)', default: '/var/run/tessera' },
    'ovn-ic': { type: 'string', help: 'managed: the watcher runs ovn-ic for this cluster; external: something else runs it', default: 'managed' },
    'log-file': { type: 'string', help: 'also log to this file' },
    'health-listen': { type: 'string', help: 'host:port for /healthz and /readyz' },
    'lease-namespace': { type: 'string', help: 'namespace of the leader-election Lease', default: 'kube-system' },
    'lease-name': { type: 'string', help: 'name of the leader-election Lease', default: 'tessera-watcher' },
    identity: { type: 'string', help: 'leader-election identity (default: hostname + pid)' },
    'lease-duration': { type: 'string', help: 'seconds a Lease holder is trusted without renewing (renew deadline 2/3 of it)', default: '15' },
    workers: { type: 'string', help: 'concurrent syncs per controller (async: they overlap NB and API round trips)', default: '256' },
    'api-connections': { type: 'string', help: 'keep-alive connections for annotation writes, opened at start (HTTP/1.1: one request in flight each)', default: '128' },
    'no-leader-election': { type: 'boolean', help: 'write without holding the Lease (single replica, tests)', default: false },
    'protected-endpoint': { type: 'string', multiple: true, help: 'IP:PORT pods may reach only when a NetworkPolicy allows it (repeatable; the --nb/--sb remotes are added)' },
    'protected-node-port': { type: 'string', multiple: true, help: 'TCP PORT pods may reach on node IPs and management IPs only when a NetworkPolicy allows it (repeatable)' },
    'nested-vlan-range': { type: 'string', help: 'VLAN tags handed to the pods of each nested node, per parent port (MIN-MAX)', default: '1-4094' },
    ...OVSDB_TLS_FLAGS,
    ...NEUTRON_PORT_FLAGS,
    ...CONFIG_FLAG,
  },
};

export interface WatcherConfig {
  subcommand: 'run' | 'master-init';
  kubeApi?: string;
  kubeTokenFile?: string;
  kubeconfig?: string;
  nbRemotes: string[];
  /** Present when interconnection may be enabled (it needs the SB for chassis and learned routes). */
  sbRemotes?: string[];
  runDir: string;
  ovnIc: 'managed' | 'external';
  clusterCidr: IPNet;
  nodeSubnetPrefix: number;
  serviceCidr: IPNet;
  joinCidr: IPNet;
  logFile?: string;
  healthListen?: { host: string; port: number };
  /** VLAN tags per nested parent port (watcher/nested/vlan-tags.ts). */
  nestedVlanRange?: VlanRange;
  leaseNamespace: string;
  leaseName: string;
  identity?: string;
  leaseDurationSeconds: number;
  workers: number;
  apiConnections: number;
  leaderElection: boolean;
  /** Key, certificate and CA files for ssl: remotes (also handed to the managed ovn-ic). */
  tls?: TlsOptions;
  /** Control endpoints pod traffic to which is dropped unless a NetworkPolicy allows it. */
  protectedEndpoints: ProtectedEndpoint[];
  /** TCP ports pod traffic to which, on any node IP or management IP, is dropped unless a NetworkPolicy allows it. */
  protectedNodePorts: number[];
  /** Pods as Neutron ports (watcher/neutron-ports/), when --neutron-secret is given. */
  neutron?: NeutronPortsConfig;
}

/** The flag values as strings, the shape ajv checks before any semantic check. */
interface RawConfig {
  'kube-api'?: string;
  'kube-token-file'?: string;
  kubeconfig?: string;
  nb: string;
  sb?: string;
  'run-dir': string;
  'ovn-ic': string;
  'cluster-cidr': string;
  'node-subnet-prefix': string;
  'service-cidr': string;
  'join-cidr': string;
  'log-file'?: string;
  'health-listen'?: string;
  'lease-namespace': string;
  'lease-name': string;
  identity?: string;
  'lease-duration': string;
  workers: string;
  'api-connections': string;
}

const REMOTE = '^(unix:.+|(tcp|ssl):(\\[[0-9a-fA-F:.]+\\]|[^:,\\s]+):[0-9]{1,5})$';
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';

const RAW_SCHEMA = {
  type: 'object',
  required: ['nb', 'cluster-cidr', 'node-subnet-prefix', 'service-cidr', 'join-cidr', 'lease-namespace', 'lease-name', 'lease-duration', 'workers', 'api-connections'],
  properties: {
    'kube-api': { type: 'string', pattern: '^(https?://|unix:)' },
    'kube-token-file': { type: 'string', minLength: 1 },
    kubeconfig: { type: 'string', minLength: 1 },
    nb: { type: 'string', minLength: 1 },
    sb: { type: 'string', minLength: 1 },
    'run-dir': { type: 'string', minLength: 1 },
    'ovn-ic': { type: 'string', enum: ['managed', 'external'] },
    'cluster-cidr': { type: 'string', minLength: 1 },
    'node-subnet-prefix': { type: 'string', pattern: '^[0-9]{1,3}$' },
    'service-cidr': { type: 'string', minLength: 1 },
    'join-cidr': { type: 'string', minLength: 1 },
    'log-file': { type: 'string', minLength: 1 },
    'health-listen': { type: 'string', pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]+):[0-9]{1,5}$' },
    'lease-namespace': { type: 'string', pattern: DNS_LABEL },
    'lease-name': { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$' },
    identity: { type: 'string', minLength: 1 },
    'lease-duration': { type: 'string', pattern: '^([2-9]|[1-9][0-9]{1,3})$' },
    workers: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' },
    'api-connections': { type: 'string', pattern: '^[1-9][0-9]{0,2}$' },
  },
} as const;

const HUMAN: Record<string, string> = {
  'kube-api': 'must be an http(s):// URL',
  'node-subnet-prefix': 'must be a number',
  'health-listen': 'must be host:port',
  'lease-namespace': 'must be a DNS label',
  'lease-name': 'must be a DNS subdomain',
  workers: 'must be an integer 1..999',
  'api-connections': 'must be an integer 1..999',
  'ovn-ic': 'must be managed or external',
  'lease-duration': 'must be whole seconds 2..9999',
};

let validateRaw: ReturnType<Ajv['compile']> | undefined;

function checkShape(raw: Record<string, unknown>): void {
  validateRaw ??= new Ajv({ allErrors: false }).compile(RAW_SCHEMA);
  if (validateRaw(raw)) return;
  const e = validateRaw.errors?.[0];
  if (!e) throw new ConfigError('invalid configuration');
  if (e.keyword === 'required') {
    throw new ConfigError(`--${String((e.params as { missingProperty: string }).missingProperty)} is required`);
  }
  const flag = e.instancePath.replace(/^\//, '').replace(/~1/g, '/');
  throw new ConfigError(`--${flag} ${HUMAN[flag] ?? e.message ?? 'is invalid'}: "${String(raw[flag])}"`);
}

function cidrFlag(flag: string, value: string): IPNet {
  try {
    return parseCIDR(value);
  } catch (err) {
    if (err instanceof IPNetError) throw new ConfigError(`--${flag}: ${err.message}`);
    throw err;
  }
}

function checkRemote(r: string): void {
  if (!new RegExp(REMOTE).test(r)) {
    throw new ConfigError(`--nb: "${r}" is not a remote (want unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT)`);
  }
  const port = /:([0-9]+)$/.exec(r);
  if (!r.startsWith('unix:') && port && (Number(port[1]) < 1 || Number(port[1]) > 65535)) {
    throw new ConfigError(`--nb: port out of range in "${r}"`);
  }
}

/**
 * Validates the parsed flags and returns the typed config; throws ConfigError naming the flag. In a pod
 * (KUBERNETES_SERVICE_HOST set) the service account is the default Kubernetes access, as lib/kube/client.ts has it.
 */
export function loadConfig(parsed: ParsedCommand, env: NodeJS.ProcessEnv = process.env): WatcherConfig {
  const v = parsed.values;
  const raw: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') raw[k] = val;
  checkShape(raw);
  const r = raw as unknown as RawConfig;

  const sub = parsed.positionals[0] ?? 'run';
  if (parsed.positionals.length > 1 || (sub !== 'run' && sub !== 'master-init')) {
    throw new ConfigError(`unknown subcommand "${parsed.positionals.join(' ')}" (want master-init or none)`);
  }
  if (!r.kubeconfig && !r['kube-api'] && sub === 'run' && !env.KUBERNETES_SERVICE_HOST) {
    throw new ConfigError('--kube-api (with --kube-token-file) or --kubeconfig is required (or run in a pod)');
  }
  if (r.kubeconfig && r['kube-api']) throw new ConfigError('--kubeconfig and --kube-api are mutually exclusive');

  const nbRemotes = r.nb.split(',').map((s) => s.trim()).filter(Boolean);
  if (nbRemotes.length === 0) throw new ConfigError('--nb is required');
  nbRemotes.forEach(checkRemote);
  const sbRemotes = r.sb?.split(',').map((s) => s.trim()).filter(Boolean);
  sbRemotes?.forEach(checkRemote);

  const clusterCidr = cidrFlag('cluster-cidr', r['cluster-cidr']);
  const serviceCidr = cidrFlag('service-cidr', r['service-cidr']);
  const joinCidr = cidrFlag('join-cidr', r['join-cidr']);
  const nodeSubnetPrefix = Number(r['node-subnet-prefix']);
  const bits = bitsOf(clusterCidr.family);
  // A node subnet needs room for network, router port (.1), management port (.2) and at least one pod.
  const maxPrefix = clusterCidr.family === 4 ? 29 : 125;
  if (nodeSubnetPrefix <= clusterCidr.prefix || nodeSubnetPrefix > maxPrefix) {
    throw new ConfigError(
      `--node-subnet-prefix ${nodeSubnetPrefix} must be longer than the --cluster-cidr prefix /${clusterCidr.prefix} and at most ${maxPrefix} (of ${bits} bits)`,
    );
  }
  subnetCount(clusterCidr, nodeSubnetPrefix);
  for (const [flag, net] of [['service-cidr', serviceCidr], ['join-cidr', joinCidr]] as const) {
    if (net.family !== clusterCidr.family) {
      throw new ConfigError(`--${flag} ${formatCIDR(net)} is IPv${net.family} but --cluster-cidr ${formatCIDR(clusterCidr)} is IPv${clusterCidr.family}`);
    }
  }
  const named: Array<[string, IPNet]> = [['cluster-cidr', clusterCidr], ['service-cidr', serviceCidr], ['join-cidr', joinCidr]];
  for (let i = 0; i < named.length; i++) {
    for (let j = i + 1; j < named.length; j++) {
      const [fa, a] = named[i];
      const [fb, b] = named[j];
      if (overlaps(a, b)) throw new ConfigError(`--${fb} ${formatCIDR(b)} overlaps --${fa} ${formatCIDR(a)}`);
    }
  }
  if (joinCidr.prefix > bits - 3) throw new ConfigError(`--join-cidr ${formatCIDR(joinCidr)} is too small (needs at least 8 addresses)`);

  const tls = parseOvsdbTls(v, [['nb', nbRemotes], ['sb', sbRemotes]]);
  const flagged = v['protected-endpoint'];
  const protectedEndpoints = parseProtectedEndpoints(Array.isArray(flagged) ? flagged : [], [...nbRemotes, ...(sbRemotes ?? [])]);
  const nodePorts = v['protected-node-port'];
  const protectedNodePorts = parseProtectedNodePorts(Array.isArray(nodePorts) ? nodePorts : []);

  let healthListen: WatcherConfig['healthListen'];
  if (r['health-listen']) {
    const m = /^(.*):([0-9]+)$/.exec(r['health-listen']);
    const port = Number(m?.[2]);
    if (!m || port > 65535) throw new ConfigError(`--health-listen port out of range: "${r['health-listen']}"`);
    healthListen = { host: m[1].replace(/^\[|\]$/g, ''), port };
  }

  return {
    subcommand: sub,
    kubeApi: r['kube-api'],
    kubeTokenFile: r['kube-token-file'],
    kubeconfig: r.kubeconfig,
    nbRemotes,
    sbRemotes,
    runDir: r['run-dir'],
    ovnIc: r['ovn-ic'] as WatcherConfig['ovnIc'],
    clusterCidr,
    nodeSubnetPrefix,
    serviceCidr,
    joinCidr,
    logFile: r['log-file'],
    healthListen,
    leaseNamespace: r['lease-namespace'],
    leaseName: r['lease-name'],
    identity: r.identity,
    leaseDurationSeconds: Number(r['lease-duration']),
    workers: Number(r.workers),
    apiConnections: Number(r['api-connections']),
    leaderElection: v['no-leader-election'] !== true,
    tls,
    protectedEndpoints,
    protectedNodePorts,
    neutron: parseNeutronPortsConfig(v),
    nestedVlanRange: nestedVlanRange(v['nested-vlan-range']),
  };
}

function nestedVlanRange(v: unknown): VlanRange | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  try {
    return parseVlanRange(v);
  } catch (err) {
    throw new ConfigError(`--nested-vlan-range: ${(err as Error).message}`);
  }
}
