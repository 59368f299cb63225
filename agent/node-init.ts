// Node init (the seed's minion-init): the node's logical switch and its link to the cluster router, and the
// management port k8s-<node> (an OVS internal port with the subnet's .2 address) with routes for the cluster and
// service CIDRs through it, so the host reaches pods and services.
// NB rows are created only when absent and never rewritten: the watcher may create the same rows, and it owns
// their contents. They carry the watcher's owner ids, so the watcher's node cleanup removes them with the node.
import { createHash } from 'node:crypto';
import { OvsdbClient, OvsdbTransactionError, ref } from '../lib/ovsdb/index.js';
import type { NBTables } from '../lib/ovsdb/models/nb.js';
import { CLUSTER_ROUTER, SUBNET_KEY, macFromIPv4, managementPort, nodeRouterPort, nodeSwitch, nodeSwitchRouterPort, ownerIds } from '../lib/ovn/names.js';
import { addressAt, formatIP, parseCIDR, withPrefix } from '../lib/ipnet/index.js';
import type { NodeNetdev } from '../lib/netdev/index.js';
import type { Logger } from '../lib/log.js';
import type { OvsdbLogger, TlsOptions } from '../lib/ovsdb/index.js';
import type { OvsPorts } from './ovs-ports.js';

export type NbClient = OvsdbClient<NBTables>;

export interface NodeNet {
  subnet: string;
  /** The node subnet's .1: router port and pod gateway. */
  gateway: string;
  /** The node subnet's .2 with prefix: the management port address. */
  mgmtAddress: string;
  mgmtMac: string;
  /** Kernel name of the management port (k8s-<node>, hashed if the node name is too long for IFNAMSIZ). */
  mgmtDevice: string;
}

export function nodeNet(node: string, subnet: string): NodeNet {
  const net = parseCIDR(subnet);
  if (net.family !== 4) throw new Error(`node subnet ${subnet}: only IPv4 is supported`);
  const gw = addressAt(net, 1);
  const mgmt = addressAt(net, 2);
  return { subnet, gateway: formatIP(gw), mgmtAddress: withPrefix(mgmt, net.prefix), mgmtMac: macFromIPv4(formatIP(mgmt)), mgmtDevice: managementDevice(node) };
}

export function managementDevice(node: string): string {
  const name = managementPort(node);
  return name.length <= 15 ? name : 'k8s-' + createHash('sha256').update(node).digest('hex').slice(0, 11);
}

const NB_TABLES = {
  Logical_Switch: { columns: ['name', 'ports', 'other_config', 'external_ids'] },
  Logical_Switch_Port: { columns: ['name', 'type', 'addresses', 'options', 'external_ids', 'up'] },
  Logical_Router: { columns: ['name', 'ports'] },
  Logical_Router_Port: { columns: ['name', 'mac', 'networks'] },
} as const;

export async function connectNb(remotes: string[], logger?: OvsdbLogger, tls?: TlsOptions): Promise<NbClient> {
  const { NB_MODEL } = await import('../lib/ovsdb/models/nb.js');
  const nb = await OvsdbClient.connect(NB_MODEL, { remotes, tls, logger, reconnect: { minMs: 200, maxMs: 5000 } });
  await nb.monitor(NB_TABLES as never);
  return nb;
}

/** Creates whatever of the node's NB topology is missing; retries when a concurrent creator (the watcher) wins. */
export async function ensureNodeTopology(nb: NbClient, node: string, n: NodeNet, log: Logger, routerTimeoutMs: number): Promise<void> {
  await nb.waitFor('Logical_Router', (r) => r.name === CLUSTER_ROUTER, routerTimeoutMs).catch(() => {
    throw new Error(`logical router ${CLUSTER_ROUTER} did not appear within ${routerTimeoutMs} ms (has the watcher run master-init?)`);
  });
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureOnce(nb, node, n, log);
      return;
    } catch (err) {
      if (!(err instanceof OvsdbTransactionError) || attempt >= 5) throw err;
      log.info('node topology: concurrent change, retrying', { attempt, error: err.message });
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

async function ensureOnce(nb: NbClient, node: string, n: NodeNet, log: Logger): Promise<void> {
  const o = nb.op;
  const ids = ownerIds('node', node);
  const lsName = nodeSwitch(node);
  const ops = [];
  const ls = nb.cache.lookup('Logical_Switch', 'name', lsName);
  let lsRef: string | ReturnType<typeof ref>;
  if (ls) {
    lsRef = ls._uuid;
    if (ls.other_config.subnet && ls.other_config.subnet !== n.subnet) {
      throw new Error(`logical switch ${lsName} has subnet ${ls.other_config.subnet}, but the node annotation says ${n.subnet}`);
    }
    if (!ls.other_config.subnet) ops.push(o.mutate('Logical_Switch', [['_uuid', '==', ls._uuid]], [['other_config', 'insert', { subnet: n.subnet }]]));
  } else {
    const mgmtIp = n.mgmtAddress.split('/')[0];
    // Logical_Switch has no name index: the wait makes the insert fail if someone created it meanwhile.
    ops.push(o.wait('Logical_Switch', [['name', '==', lsName]], ['name'], '==', [], 0));
    ops.push(o.insert('Logical_Switch', { name: lsName, other_config: { subnet: n.subnet, exclude_ips: `${n.gateway}..${mgmtIp}` }, external_ids: { ...ids, [SUBNET_KEY]: n.subnet } }, 'ls'));
    lsRef = ref('ls');
  }
  const router = nb.cache.lookup('Logical_Router', 'name', CLUSTER_ROUTER);
  if (!router) throw new Error(`logical router ${CLUSTER_ROUTER} is gone`);
  const rtos = nodeRouterPort(node);
  const gwMac = macFromIPv4(n.gateway);
  const prefix = n.subnet.split('/')[1];
  const lrp = nb.cache.lookup('Logical_Router_Port', 'name', rtos);
  if (!lrp) {
    ops.push(o.insert('Logical_Router_Port', { name: rtos, mac: gwMac, networks: [`${n.gateway}/${prefix}`], external_ids: ids }, 'lrp'));
    ops.push(o.mutate('Logical_Router', [['_uuid', '==', router._uuid]], [['ports', 'insert', [ref('lrp')]]]));
  } else if (lrp.mac !== gwMac || !lrp.networks.includes(`${n.gateway}/${prefix}`)) {
    log.warn(`router port ${rtos} differs from what the node subnet implies; leaving it to the watcher`, { mac: lrp.mac, networks: lrp.networks });
  }
  const lspOps = (name: string, row: { type: string; addresses: string[]; options: Record<string, string> }, uuidName: string) => {
    // Present anywhere: leave it (the name is unique; the watcher owns its contents).
    if (nb.cache.lookup('Logical_Switch_Port', 'name', name)) return [];
    return [
      o.insert('Logical_Switch_Port', { name, ...row, external_ids: ids }, uuidName),
      o.mutate('Logical_Switch', [['_uuid', '==', lsRef]], [['ports', 'insert', [ref(uuidName)]]]),
    ];
  };
  ops.push(...lspOps(nodeSwitchRouterPort(node), { type: 'router', addresses: ['router'], options: { 'router-port': rtos } }, 'stor'));
  const mgmtIp = n.mgmtAddress.split('/')[0];
  ops.push(...lspOps(managementPort(node), { type: '', addresses: [`${n.mgmtMac} ${mgmtIp}`], options: {} }, 'mgmt'));
  if (ops.length === 0) return;
  await nb.transact(ops);
  log.info('node topology created', { switch: lsName, subnet: n.subnet, ops: ops.length });
}

/** The management port: OVS internal port on br-int plus its address, MTU and routes in this (the node's) netns. */
export async function ensureManagementPort(
  node: string,
  n: NodeNet,
  mtu: number,
  routeCidrs: string[],
  ports: OvsPorts,
  netdev: NodeNetdev,
  txChecksumOff: boolean,
  timeoutMs: number,
): Promise<void> {
  await ports.ensureInternalPort(n.mgmtDevice, managementPort(node), n.mgmtMac, mtu);
  // vswitchd creates the tap asynchronously: bounded wait for the kernel device.
  const deadline = Date.now() + timeoutMs;
  let link = netdev.hostLink(n.mgmtDevice);
  while (!link) {
    if (Date.now() > deadline) throw new Error(`management port device ${n.mgmtDevice} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
    link = netdev.hostLink(n.mgmtDevice);
  }
  const r = netdev.rtnl;
  r.setLink(link.index, `configuring ${n.mgmtDevice}`, { mtu, mac: link.mac === n.mgmtMac ? undefined : n.mgmtMac });
  r.addAddress(link.index, n.mgmtAddress, n.mgmtDevice);
  r.setLink(link.index, `setting ${n.mgmtDevice} up`, { up: true });
  for (const dst of routeCidrs) r.replaceRoute({ dst, gateway: n.gateway, oif: link.index }, n.mgmtDevice);
  if (txChecksumOff) {
    const { setTxChecksum } = await import('../lib/netdev/index.js');
    setTxChecksum(netdev.ioctlFd, n.mgmtDevice, false);
  }
}
