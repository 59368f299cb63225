// tessera-agent flags and their validation: everything is checked here, so nothing half-parsed travels inward.
import { ConfigError, parseCommand, requireString, type CommandSpec } from '../lib/cli.js';
import { parseCIDR } from '../lib/ipnet/index.js';
import { DEFAULT_AGENT_SOCKET } from '../lib/cni-protocol.js';
import { OVSDB_TLS_FLAGS, parseOvsdbTls } from '../lib/ovsdb-tls-flags.js';
import { CONFIG_FLAG } from '../lib/config-file.js';
import type { TlsOptions } from '../lib/ovsdb/remote.js';

export const spec: CommandSpec = {
  name: 'tessera-agent',
  summary: 'node agent: node init (management port), the CNI server for tessera-cni, and pod port reconcile',
  usage: 'tessera-agent --node-name NAME (--kube-api URL [--kube-token-file PATH] | --kubeconfig PATH) --ovs-db unix:PATH [flags]',
  flags: {
    'node-name': { type: 'string', help: 'this node (Kubernetes Node name; also the chassis/switch name)' },
    'kube-api': { type: 'string', help: 'Kubernetes API URL (http(s)://host:port)' },
    'kube-token-file': { type: 'string', help: 'file holding the bearer token for --kube-api, re-read when it changes (without --kube-api/--kubeconfig: the in-cluster service account)' },
    kubeconfig: { type: 'string', help: 'kubeconfig file (instead of --kube-api)' },
    'ovs-db': { type: 'string', help: "the node's Open_vSwitch database", default: 'unix:/var/run/openvswitch/db.sock' },
    'cni-socket': { type: 'string', help: 'unix socket the tessera-cni shim talks to', default: DEFAULT_AGENT_SOCKET },
    mtu: { type: 'string', help: 'pod and management port MTU', default: '1400' },
    'cluster-cidr': { type: 'string', help: 'cluster pod CIDR (routed via the management port)', default: '10.244.0.0/16' },
    'service-cidr': { type: 'string', help: 'service CIDR (routed via the management port)', default: '10.96.0.0/16' },
    'health-listen': { type: 'string', help: 'host:port for /healthz and /readyz (empty: off)', default: '' },
    'reconcile-interval': { type: 'string', help: 'seconds between pod port reconciles', default: '60' },
    'log-file': { type: 'string', help: 'also log to this file' },
    'ovn-rundir': { type: 'string', help: "ovn-controller's run directory (its pidfile and control socket)", default: '/var/run/ovn' },
    'patch-flow-check': { type: 'string', help: 'seconds between checks of logical patch flows against the Southbound keys (0: off)', default: '60' },
    'neutron-ports': { type: 'boolean', help: "Kuryr's baremetal layout: every pod carries iface_id (its Neutron port id), which its br-int port gets as iface-id; no node subnet, no management port", default: false },
    'nested-parent-iface': { type: 'string', help: "nested mode (a VM's node, no OVS): the VM's NIC whose VLAN links carry the pods (agent/nested/)" },
    ...OVSDB_TLS_FLAGS,
    ...CONFIG_FLAG,
  },
};

export interface AgentConfig {
  nodeName: string;
  kubeApi?: string;
  kubeTokenFile?: string;
  kubeconfig?: string;
  ovsDb: string;
  cniSocket: string;
  mtu: number;
  clusterCidr: string;
  serviceCidr: string;
  healthListen?: { host: string; port: number };
  reconcileIntervalMs: number;
  logFile?: string;
  ovnRundir: string;
  /** 0: the patch flow watchdog is off. */
  patchFlowCheckMs: number;
  /** For an ssl: --ovs-db and an ssl: ovn-remote (the watchdog's Southbound). */
  tls?: TlsOptions;
  /** Nested mode: the VM's NIC; no OVS, no management port (agent/nested/). */
  nestedParentIface?: string;
  /** Every pod network names a Neutron port as iface_id (agent/neutron-port.ts); node init makes no management port. */
  neutronPorts: boolean;
}

const opt = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function parseConfig(argv: string[]): AgentConfig {
  const { values } = parseCommand(spec, argv);
  const nodeName = requireString(values, 'node-name');
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName)) throw new ConfigError(`--node-name "${nodeName}" is not a valid Kubernetes node name`);
  const kubeApi = opt(values['kube-api']);
  const kubeconfig = opt(values.kubeconfig);
  if (kubeApi && !/^https?:\/\//.test(kubeApi)) throw new ConfigError(`--kube-api "${kubeApi}" must be an http:// or https:// URL`);
  const ovsDb = requireString(values, 'ovs-db');
  if (!/^(unix|tcp|ssl):/.test(ovsDb)) throw new ConfigError(`--ovs-db "${ovsDb}" must be unix:PATH, tcp:IP:PORT or ssl:IP:PORT`);
  const mtu = Number(values.mtu);
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 9000) throw new ConfigError(`--mtu "${String(values.mtu)}" must be an integer between 576 and 9000`);
  const cidr = (name: string): string => {
    const v = requireString(values, name);
    try {
      parseCIDR(v);
    } catch (err) {
      throw new ConfigError(`--${name} "${v}": ${(err as Error).message}`);
    }
    return v;
  };
  let healthListen: AgentConfig['healthListen'];
  const hl = opt(values['health-listen']);
  if (hl) {
    const m = /^(.*):(\d+)$/.exec(hl);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port > 65535) throw new ConfigError(`--health-listen "${hl}" must be host:port`);
    healthListen = { host: m[1].replace(/^\[|\]$/g, '') || '0.0.0.0', port };
  }
  const ri = Number(values['reconcile-interval']);
  if (!(ri >= 1 && ri <= 86400)) throw new ConfigError(`--reconcile-interval "${String(values['reconcile-interval'])}" must be 1..86400 seconds`);
  const pf = Number(values['patch-flow-check']);
  if (!(Number.isInteger(pf) && pf >= 0 && pf <= 86400)) throw new ConfigError(`--patch-flow-check "${String(values['patch-flow-check'])}" must be 0..86400 seconds`);
  const tls = parseOvsdbTls(values, [['ovs-db', [ovsDb]]]);
  const nested = opt(values['nested-parent-iface']);
  if (nested !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(nested)) throw new ConfigError(`--nested-parent-iface "${nested}" is not an interface name`);
  return {
    nodeName,
    kubeApi,
    kubeTokenFile: opt(values['kube-token-file']),
    kubeconfig,
    ovsDb,
    cniSocket: requireString(values, 'cni-socket'),
    mtu,
    clusterCidr: cidr('cluster-cidr'),
    serviceCidr: cidr('service-cidr'),
    healthListen,
    reconcileIntervalMs: ri * 1000,
    logFile: opt(values['log-file']),
    ovnRundir: requireString(values, 'ovn-rundir'),
    patchFlowCheckMs: pf * 1000,
    tls,
    nestedParentIface: nested,
    neutronPorts: values['neutron-ports'] === true,
  };
}
