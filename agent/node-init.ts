// Node init: the host side of the management port k8s-<node>, an OVS internal port with the subnet's .2 address,
// and routes for the cluster and service CIDRs through it, so the host reaches pods and services. The logical side
// (the LSP k8s-<node> on the node switch) is the watcher's: the agent announces the port's MAC on its Node
// (node-annotation.ts) and ovn-controller binds the port once the watcher has created the LSP with it.
// A --neutron-ports node (Kuryr's baremetal layout) has neither node subnet nor management port: it is a chassis
// of OpenStack's OVN, every pod on it is a Neutron port with Neutron's addressing (the watcher's Neutron mode gives
// every pod one), and its host reaches pods and services through Neutron's routing. Routes for the cluster and
// service CIDRs through a port Neutron's OVN never binds would cut the host off from them.
import { createHash } from 'node:crypto';
import { macFromIPv4, managementPort } from '../lib/ovn/names.js';
import { addressAt, formatIP, parseCIDR, withPrefix } from '../lib/ipnet/index.js';
import { NODE_MGMT_MAC_ANNOTATION } from '../lib/kube/annotations.js';
import type { Logger } from '../lib/log.js';
import type { NodeNetdev } from '../lib/netdev/index.js';
import type { AgentConfig } from './config.js';
import type { KubeViews } from './kube.js';
import { annotationSubnet, announceManagementMac } from './node-annotation.js';
import type { OvsPorts } from './ovs-ports.js';

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

export interface NodeInitDeps {
  cfg: AgentConfig;
  views: KubeViews;
  ports: OvsPorts;
  netdev: NodeNetdev;
  log: Logger;
  /** Runs a step until it succeeds, with backoff (the agent's retry). */
  retry: <T>(what: string, fn: () => Promise<T>) => Promise<T>;
}

/** Node init, done once it returns: br-int exists and, unless the node takes Neutron ports, the management port is bound. */
export async function initNode(d: NodeInitDeps): Promise<void> {
  const { cfg, views, ports: p, netdev, log, retry } = d;
  if (cfg.neutronPorts) {
    await retry('waiting for br-int', () => p.waitBridge(30_000));
    log.info('Neutron ports node: no node subnet, no management port');
    return;
  }
  // Wait (unbounded, event-driven) for the watcher to allocate this node's subnet.
  const node = await views.node.waitFor(cfg.nodeName, undefined, (n) => annotationSubnet(n) !== undefined, 2 ** 31 - 1);
  const subnet = annotationSubnet(node)!;
  const n = nodeNet(cfg.nodeName, subnet);
  log.info('node subnet', { subnet, gateway: n.gateway, managementPort: n.mgmtDevice });
  // The watcher creates the LSP k8s-<node> with this MAC; ovn-controller then binds the OVS port made below.
  await retry(`announcing the management port MAC in ${NODE_MGMT_MAC_ANNOTATION}`, () =>
    announceManagementMac(views.node.get(cfg.nodeName) ?? node, n.mgmtMac, views.annotateNode),
  );
  await retry('waiting for br-int', () => p.waitBridge(30_000));
  await retry('configuring the management port', () =>
    ensureManagementPort(cfg.nodeName, n, cfg.mtu, [cfg.clusterCidr, cfg.serviceCidr], p, netdev, p.isNetdev(), 10_000),
  );
  // Bound means the LSP exists with this port's MAC: the host reaches its pods (kubelet probes) once ready.
  await retry(`waiting for ovn-controller to bind the management port (the watcher creates its LSP; a refused MAC is an Event on Node ${cfg.nodeName})`, () =>
    p.waitInstalled(n.mgmtDevice, 30_000),
  );
}
