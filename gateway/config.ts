// Flags of the tessera-gateway subcommands, and their validation into typed configs (bad values named, exit 2).
import { ConfigError, requireString, type CommandSpec, type FlagSpec, type ParsedCommand } from '../lib/cli.js';
import { IPNetError, parseCIDR, parseIP, parseInterfaceAddress, contains, formatCIDR, formatIP } from '../lib/ipnet/index.js';
import type { OvsTarget } from './ovs.js';
import { validateNic } from './nics-to-bridge.js';
import { OVSDB_TLS_FLAGS, parseOvsdbTls } from '../lib/ovsdb-tls-flags.js';
import { CONFIG_FLAG } from '../lib/config-file.js';
import type { TlsOptions } from '../lib/ovsdb/remote.js';

const common: Record<string, FlagSpec> = {
  'ovs-db': { type: 'string', help: "the node's Open_vSwitch database", default: 'unix:/var/run/openvswitch/db.sock' },
  'ovs-rundir': { type: 'string', help: 'directory with the OpenFlow management sockets <bridge>.mgmt', default: '/var/run/openvswitch' },
  'state-dir': { type: 'string', help: 'where the gateway records what it changed on the node (plans, join IP)', default: '/var/lib/tessera/gateway' },
  'log-file': { type: 'string', help: 'also log to this file' },
  ...OVSDB_TLS_FLAGS,
  ...CONFIG_FLAG,
};

const gatewayFlags: Record<string, FlagSpec> = {
  'node-name': { type: 'string', help: 'Kubernetes node name of this gateway (GR_<node>, ext_<node>)' },
  'physical-interface': { type: 'string', help: 'option 1: a NIC dedicated to external traffic; it is put into bridge br<nic>' },
  'bridge-interface': { type: 'string', help: 'option 2: an existing OVS bridge (from nics-to-bridge) shared with host traffic' },
  'physical-ip': { type: 'string', help: "the gateway router's external address, ip/len" },
  'default-gw': { type: 'string', help: 'next hop of the default route on the external network' },
  'cluster-ip-subnet': { type: 'string', help: 'cluster CIDR SNATed to the physical IP on egress', default: '10.244.0.0/16' },
  'node-subnet': { type: 'string', help: "this node's pod subnet (default: other_config:subnet of its logical switch)" },
  'join-cidr': { type: 'string', help: 'join switch subnet; .1 is ovn_cluster_router', default: '100.64.0.0/16' },
  'physical-network': { type: 'string', help: 'localnet network_name, mapped to the bridge in ovn-bridge-mappings', default: 'physnet' },
  'chassis': { type: 'string', help: "chassis name of this node (default: the node OVS's external_ids:system-id)" },
  'node-ip': { type: 'string', help: "the host's own IP, which this node's pods reach through its management port (default: --physical-ip with --bridge-interface, none with --physical-interface)" },
  nb: { type: 'string', help: 'OVN northbound remotes, comma separated (unix:, tcp:, ssl:)' },
  ...common,
};

export const specs: Record<string, CommandSpec> = {
  'nics-to-bridge': {
    name: 'tessera-gateway nics-to-bridge',
    summary: "put a NIC into OVS bridge br<nic> and move its addresses and routes there, transactionally",
    usage: 'tessera-gateway nics-to-bridge <nic> [--undo] [flags]',
    positionals: true,
    flags: { undo: { type: 'boolean', help: 'restore the NIC from the recorded plan and remove the bridge' }, ...common },
  },
  init: {
    name: 'tessera-gateway init',
    summary: "create this node's gateway router, external switch, SNAT and return routes (idempotent)",
    usage: 'tessera-gateway init --node-name N (--physical-interface eth1 | --bridge-interface breth0) --physical-ip IP/LEN --default-gw IP --nb REMOTES [flags]',
    flags: gatewayFlags,
  },
  run: {
    name: 'tessera-gateway run',
    summary: 'init, then keep the gateway in shape and program NodePort/LoadBalancer services on GR_<node>',
    usage: 'tessera-gateway run <init flags> (--kube-api URL --kube-token-file PATH | --kubeconfig PATH) [flags]',
    flags: {
      ...gatewayFlags,
      'kube-api': { type: 'string', help: 'Kubernetes API URL' },
      'kube-token-file': { type: 'string', help: 'file holding the bearer token for --kube-api (re-read when it changes)' },
      kubeconfig: { type: 'string', help: 'kubeconfig file (instead of --kube-api/--kube-token-file)' },
      'resync-seconds': { type: 'string', help: 'period of the full reconcile pass', default: '60' },
      'flow-check-seconds': { type: 'string', help: 'period of the check that the bridge still has our flows (a restarted ovs-vswitchd starts empty)', default: '5' },
      'health-listen': { type: 'string', help: 'host:port for /healthz' },
    },
  },
  cleanup: {
    name: 'tessera-gateway cleanup',
    summary: 'remove everything the gateway created (NB rows, flows, bridge mappings, bridge) and restore the NIC',
    usage: 'tessera-gateway cleanup --node-name N [--nb REMOTES] [flags]',
    flags: { 'node-name': gatewayFlags['node-name']!, nb: gatewayFlags.nb!, ...common },
  },
};

/** Every flag of every subcommand: what a --config file's gateway section may name. */
export const ALL_GATEWAY_FLAGS: Record<string, FlagSpec> = Object.assign({}, ...Object.values(specs).map((s) => s.flags)) as Record<string, FlagSpec>;

export interface CommonConfig {
  ovs: OvsTarget;
  stateDir: string;
  logFile?: string;
  /** For ssl: --nb remotes (--ovs-db is the node's own database, reached through ovs-vsctl). */
  tls?: TlsOptions;
}

export interface GatewayConfig extends CommonConfig {
  node: string;
  mode: 'dedicated' | 'shared';
  /** The NIC (dedicated mode) or undefined (shared mode: the bridge already exists). */
  physicalInterface?: string;
  bridge: string;
  physicalIp: string;
  physicalPrefix: number;
  defaultGw: string;
  clusterSubnet: string;
  nodeSubnet?: string;
  joinCidr: string;
  physicalNetwork: string;
  chassis?: string;
  /** The host's IP that this node's pods reach through the management port (shared NIC: the physical IP). */
  nodeIp?: string;
  nbRemotes: string[];
}

export function parseCommon(v: ParsedCommand['values']): CommonConfig {
  const cfg: CommonConfig = {
    ovs: { db: requireString(v, 'ovs-db'), rundir: requireString(v, 'ovs-rundir') },
    stateDir: requireString(v, 'state-dir'),
  };
  if (!/^(unix|tcp|ssl):/.test(cfg.ovs.db)) throw new ConfigError(`--ovs-db "${cfg.ovs.db}": expected unix:PATH, tcp:IP:PORT or ssl:IP:PORT`);
  if (typeof v['log-file'] === 'string') cfg.logFile = v['log-file'];
  const nb = typeof v.nb === 'string' ? [v.nb] : [];
  const tls = parseOvsdbTls(v, [['nb', nb.flatMap((s) => s.split(','))]]);
  if (tls) cfg.tls = tls;
  return cfg;
}

export function parseNbRemotes(s: string): string[] {
  const remotes = s.split(',').map((r) => r.trim()).filter((r) => r !== '');
  for (const r of remotes) if (!/^(unix|tcp|ssl):./.test(r)) throw new ConfigError(`--nb: "${r}" is not unix:PATH, tcp:IP:PORT or ssl:IP:PORT`);
  if (remotes.length === 0) throw new ConfigError('--nb is required');
  return remotes;
}

function cidrFlag(v: ParsedCommand['values'], name: string): string {
  const s = requireString(v, name);
  try {
    const n = parseCIDR(s);
    if (n.family !== 4) throw new ConfigError(`--${name} "${s}": only IPv4 is supported by the gateway so far`);
    return formatCIDR(n);
  } catch (err) {
    if (err instanceof IPNetError) throw new ConfigError(`--${name}: ${err.message}`);
    throw err;
  }
}

export function parseGateway(v: ParsedCommand['values']): GatewayConfig {
  const node = requireString(v, 'node-name');
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(node)) throw new ConfigError(`--node-name "${node}" is not a valid Kubernetes node name`);
  const phys = v['physical-interface'];
  const br = v['bridge-interface'];
  if ((typeof phys === 'string') === (typeof br === 'string')) {
    throw new ConfigError('give exactly one of --physical-interface (option 1, dedicated NIC) or --bridge-interface (option 2, shared NIC)');
  }
  const ipText = requireString(v, 'physical-ip');
  let physicalIp: string;
  let physicalPrefix: number;
  try {
    const ia = parseInterfaceAddress(ipText);
    if (ia.address.family !== 4) throw new ConfigError(`--physical-ip "${ipText}": only IPv4 is supported by the gateway so far`);
    physicalIp = formatIP(ia.address);
    physicalPrefix = ia.network.prefix;
  } catch (err) {
    if (err instanceof IPNetError) throw new ConfigError(`--physical-ip "${ipText}": expected ip/len (${err.message})`);
    throw err;
  }
  const gwText = requireString(v, 'default-gw');
  let defaultGw: string;
  try {
    const gw = parseIP(gwText);
    if (!contains(parseCIDR(`${physicalIp}/${physicalPrefix}`, { strict: false }), gw)) {
      throw new ConfigError(`--default-gw ${gwText} is not inside the physical network ${physicalIp}/${physicalPrefix}`);
    }
    defaultGw = formatIP(gw);
  } catch (err) {
    if (err instanceof IPNetError) throw new ConfigError(`--default-gw: ${err.message}`);
    throw err;
  }
  const cfg: GatewayConfig = {
    ...parseCommon(v),
    node,
    mode: typeof phys === 'string' ? 'dedicated' : 'shared',
    bridge: typeof phys === 'string' ? `br${phys}` : (br as string),
    physicalIp, physicalPrefix, defaultGw,
    clusterSubnet: cidrFlag(v, 'cluster-ip-subnet'),
    joinCidr: cidrFlag(v, 'join-cidr'),
    physicalNetwork: requireString(v, 'physical-network'),
    nbRemotes: parseNbRemotes(requireString(v, 'nb')),
  };
  if (typeof phys === 'string') {
    try {
      validateNic(phys);
    } catch (err) {
      throw new ConfigError(`--physical-interface: ${(err as Error).message}`);
    }
    cfg.physicalInterface = phys;
  }
  if (typeof v['node-subnet'] === 'string') cfg.nodeSubnet = cidrFlag(v, 'node-subnet');
  if (typeof v.chassis === 'string') cfg.chassis = v.chassis;
  if (typeof v['node-ip'] === 'string') {
    try {
      const ip = parseIP(v['node-ip']);
      if (ip.family !== 4) throw new ConfigError(`--node-ip "${v['node-ip']}": only IPv4 is supported by the gateway so far`);
      cfg.nodeIp = formatIP(ip);
    } catch (err) {
      if (err instanceof IPNetError) throw new ConfigError(`--node-ip: ${err.message}`);
      throw err;
    }
  } else if (cfg.mode === 'shared') cfg.nodeIp = physicalIp;
  return cfg;
}
