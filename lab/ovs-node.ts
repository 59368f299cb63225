// One lab node: its own ovsdb-server and ovs-vswitchd (userspace datapath), br-phy owning the underlay NIC
// with the node IP (userspace Geneve needs the tunnel endpoint on a bridge of the same vswitchd), ovn-controller.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsOptions } from '../lib/ovsdb/remote.js';
import { daemonEnv, daemonFlags, readPid } from './daemon.js';
import { run } from './exec.js';
import { addAddr, linkExists, linkMac } from './netns.js';
import { UNDERLAY_NIC } from './underlay.js';
import { waitFor } from './wait.js';

export const PHYS_BRIDGE = 'br-phy';

export interface OvsNode {
  name: string;
  netns: string;
  /** OVS_RUNDIR of this node: db.sock, *.pid, *.log, bridge mgmt sockets. */
  dir: string;
  dbSocket: string;
  /** Underlay IP (on br-phy), also the Geneve endpoint. */
  ip: string;
}

export const vsctl = (n: Pick<OvsNode, 'dbSocket'>, args: string[]): Promise<string> =>
  run('ovs-vsctl', [`--db=unix:${n.dbSocket}`, '--timeout=30', ...args]);

/** A node's own ovsdb-server and ovs-vswitchd (userspace datapath), state and sockets in `dir`. */
export async function startOvsDaemons(netns: string, dir: string): Promise<{ dbSocket: string }> {
  mkdirSync(dir, { recursive: true });
  const env = daemonEnv(dir);
  const db = join(dir, 'conf.db');
  const dbSocket = join(dir, 'db.sock');
  await run('ovsdb-tool', ['create', db, '/usr/share/openvswitch/vswitch.ovsschema']);
  await run('ovsdb-server', [db, `--remote=punix:${dbSocket}`, '--remote=db:Open_vSwitch,Open_vSwitch,manager_options',
    ...daemonFlags(dir, 'ovsdb-server')], { netns, env });
  await vsctl({ dbSocket }, ['--no-wait', 'init']);
  await run('ovs-vswitchd', [`unix:${dbSocket}`, ...daemonFlags(dir, 'ovs-vswitchd')], { netns, env });
  return { dbSocket };
}

/**
 * Makes the node an OVN chassis: its Geneve endpoint and SB remote in OVS, then ovn-controller. With `tls` (an ssl:
 * sbRemote) the key, certificate and CA go into the node's SSL table (ovs-vsctl set-ssl), where ovn-controller reads them.
 */
export async function startOvnController(o: { name: string; netns: string; dir: string; dbSocket: string; encapIp: string; sbRemote: string; tls?: TlsOptions }): Promise<void> {
  if (o.tls) await vsctl(o, ['set-ssl', o.tls.key, o.tls.cert, o.tls.ca]);
  await vsctl(o, ['set', 'Open_vSwitch', '.', `external_ids:system-id=${o.name}`, `external_ids:hostname=${o.name}`,
    `external_ids:ovn-remote=${o.sbRemote}`, 'external_ids:ovn-encap-type=geneve', `external_ids:ovn-encap-ip=${o.encapIp}`,
    'external_ids:ovn-bridge-datapath-type=netdev']);
  // ovn-controller 23.03 has no --unixctl; its control socket is $OVS_RUNDIR/ovn-controller.<pid>.ctl.
  await run('ovn-controller', [`unix:${o.dbSocket}`, ...daemonFlags(o.dir, 'ovn-controller', false)], { netns: o.netns, env: daemonEnv(o.dir) });
}

export async function startOvsNode(o: { name: string; netns: string; dir: string; cidr: string; sbRemote: string; tls?: TlsOptions }): Promise<OvsNode> {
  const { dbSocket } = await startOvsDaemons(o.netns, o.dir);
  const node: OvsNode = { name: o.name, netns: o.netns, dir: o.dir, dbSocket, ip: o.cidr.split('/')[0] };

  // Userspace tunnelling needs the endpoint IP on a bridge of the same vswitchd: br-phy owns the underlay NIC.
  const mac = await linkMac(o.netns, UNDERLAY_NIC);
  await vsctl(node, ['add-br', PHYS_BRIDGE, '--', 'set', 'Bridge', PHYS_BRIDGE, 'datapath_type=netdev', `other_config:hwaddr="${mac}"`,
    '--', 'add-port', PHYS_BRIDGE, UNDERLAY_NIC]);
  await waitFor(`${PHYS_BRIDGE} tap in ${o.netns}`, () => linkExists(o.netns, PHYS_BRIDGE), 10_000);
  await addAddr(o.netns, PHYS_BRIDGE, o.cidr);
  await run('ip', ['-n', o.netns, 'link', 'set', PHYS_BRIDGE, 'up']);

  await startOvnController({ ...node, encapIp: node.ip, sbRemote: o.sbRemote, tls: o.tls });
  return node;
}

/** ovn-controller's control socket (it has no --unixctl in 23.03). */
export function ovnControllerCtl(n: Pick<OvsNode, 'dir'>): string | undefined {
  const pid = readPid(join(n.dir, 'ovn-controller.pid'));
  return pid === undefined ? undefined : join(n.dir, `ovn-controller.${pid}.ctl`);
}

/** True once ovn-controller has installed the flows of the OVS interface `iface`. */
export async function ovnInstalled(n: Pick<OvsNode, 'dbSocket'>, iface: string): Promise<boolean> {
  const v = await vsctl(n, ['--if-exists', 'get', 'Interface', iface, 'external_ids:ovn-installed']);
  return v === '"true"';
}
