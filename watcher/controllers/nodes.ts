// Node controller: a subnet per node (annotation tessera.io/node-subnet), the node's logical switch
// linked to ovn_cluster_router (rtos-<node>/stor-<node>), attached to the cluster LB group, and the
// management port k8s-<node> with the MAC the node's agent announces; the management IP (.2) joins the
// management address set and the Node's InternalIPs the node-IP address set.
// Node deleted → switch, router port and addresses go, and the subnet is freed; a switch that holds another
// writer's ports keeps them and is only disowned (ForeignPortsKept). Every node switch carries the
// protected-endpoints drop ACL.
import type { V1Node } from '@kubernetes/client-node';
import {
  CLUSTER_LB_GROUP, CLUSTER_ROUTER, KIND_KEY, MGMT_ADDRESS_SET, NODE_IPS_ADDRESS_SET, OBJECT_KEY, OWNER_KEY, SUBNET_KEY, isOurs, macFromIPv4,
  nodeRouterPort, nodeSwitch, nodeSwitchRouterPort, ownedBy, ownerIds,
} from '../../lib/ovn/names.js';
import { NODE_SUBNET_ANNOTATION } from '../../lib/kube/annotations.js';
import { formatCIDR, formatIP, withPrefix, type IPNet, parseCIDR, parseIP } from '../../lib/ipnet/index.js';
import type { WatcherContext } from '../context.js';
import { Txn } from '../../lib/ovn/txn.js';
import { commit } from '../../lib/ovn/commit.js';
import { ensureSwitch, ensureSwitchAcls, deleteSwitch, disownSwitch, findSwitch } from '../../lib/ovn/switch.js';
import { ensureRouterPort, deleteRouterPort } from '../../lib/ovn/router.js';
import { createOrUpdatePort } from '../../lib/ovn/lsp.js';
import { attachGroup } from '../../lib/ovn/load-balancer.js';
import { addressSetAdd, addressSetRemove } from '../../lib/ovn/address-set.js';
import type { AclSpec } from '../../lib/ovn/acl.js';
import { PROTECTED_OBJECT, protectedEndpointsAcl } from '../policy/protected-endpoints.js';
import { SubnetIPAM } from '../ipam/pod-ipam.js';
import { SubnetExhaustedError } from '../ipam/subnet-allocator.js';
import { ensureManagementPort, managementMac } from './management-port.js';

export class NodeController {
  /** Called after a node's switch exists (pods waiting for it can proceed). */
  onNodeReady: (node: string) => void = () => {};

  private readonly ready = new Set<string>();
  /** The SubnetExhausted message last reported per node: one Event per distinct problem, not one per retry. */
  private readonly exhausted = new Map<string, string>();
  /** The refused management port MAC last reported per node, for the same reason. */
  private readonly refusedMac = new Map<string, string>();

  constructor(private readonly ctx: WatcherContext) {}

  private protectedAcls(routerMac: string): AclSpec[] {
    const c = this.ctx.config;
    const acl = protectedEndpointsAcl(c.protectedEndpoints, c.protectedNodePorts, c.clusterCidr.family, routerMac);
    return acl ? [acl] : [];
  }

  /** Rebuilds the subnet allocator: annotations first (what nodes were told), then our NB switches. */
  rebuild(): void {
    const { ctx } = this;
    for (const node of ctx.stores.nodes.list()) {
      const name = node.metadata?.name ?? '';
      const ann = node.metadata?.annotations?.[NODE_SUBNET_ANNOTATION];
      if (!ann) continue;
      try {
        const net = ctx.subnets.reserve(name, ann);
        ctx.ipam.setSubnet(nodeSwitch(name), net);
      } catch (err) {
        ctx.log.warn(`node ${name}: ignoring annotation ${NODE_SUBNET_ANNOTATION}="${ann}": ${(err as Error).message}`);
      }
    }
    for (const ls of ctx.nb.cache.list('Logical_Switch')) {
      const node = ownedBy(ls.external_ids, 'node');
      const subnet = ls.external_ids[SUBNET_KEY];
      if (!node || !subnet || ctx.subnets.get(node)) continue;
      try {
        ctx.ipam.setSubnet(ls.name, ctx.subnets.reserve(node, subnet));
      } catch (err) {
        ctx.log.warn(`switch ${ls.name}: subnet ${subnet} not rebuilt: ${(err as Error).message}`);
      }
    }
  }

  /** Keys of nodes that have our NB rows but no Node object (for reconcile). */
  staleKeys(): string[] {
    return this.ctx.nb.cache
      .list('Logical_Switch')
      .map((ls) => ownedBy(ls.external_ids, 'node'))
      .filter((n): n is string => !!n && !this.ctx.stores.nodes.get(n));
  }

  async sync(name: string): Promise<void> {
    const node = this.ctx.stores.nodes.get(name);
    if (!node) return this.remove(name);
    try {
      await this.ensure(name, node);
      this.exhausted.delete(name);
    } catch (err) {
      // Retried with backoff: a subnet comes free when another node goes.
      if (err instanceof SubnetExhaustedError && this.exhausted.get(name) !== err.message) {
        this.exhausted.set(name, err.message);
        await this.ctx.kube.event({ kind: 'Node', name, uid: node.metadata?.uid }, 'Warning', 'SubnetExhausted', err.message).catch(() => {});
      }
      throw err;
    }
  }

  private async ensure(name: string, node: V1Node): Promise<void> {
    const { ctx } = this;
    const ann = node.metadata?.annotations?.[NODE_SUBNET_ANNOTATION];
    let subnet: IPNet;
    if (ann && !ctx.subnets.get(name)) {
      try {
        subnet = ctx.subnets.reserve(name, ann);
      } catch (err) {
        ctx.log.warn(`node ${name}: annotation ${NODE_SUBNET_ANNOTATION}="${ann}" refused (${(err as Error).message}); allocating a new subnet`);
        await ctx.kube.event({ kind: 'Node', name, uid: node.metadata?.uid }, 'Warning', 'SubnetConflict', (err as Error).message).catch(() => {});
        subnet = ctx.subnets.allocate(name);
      }
    } else {
      subnet = ctx.subnets.allocate(name);
    }
    const sipam = ctx.ipam.setSubnet(nodeSwitch(name), subnet);
    const mgmtMac = await this.checkManagementMac(name, node, sipam);
    await commit(ctx.nb, this.nodeOps(name, subnet, sipam, mgmtMac));
    const cidr = formatCIDR(subnet);
    if (ann !== cidr) await ctx.kube.annotate({ kind: 'Node', name }, { [NODE_SUBNET_ANNOTATION]: cidr });
    // Pods that arrived before their node's switch wait for this, once (not on every node heartbeat).
    if (!this.ready.has(name)) {
      this.ready.add(name);
      this.onNodeReady(name);
    }
  }

  /** The Node's management port MAC if it is acceptable; a refusal is a Warning Event, once per distinct value. */
  private async checkManagementMac(name: string, node: V1Node, sipam: SubnetIPAM): Promise<string | undefined> {
    const m = managementMac(name, node.metadata?.annotations, sipam.managementIP, this.ctx.nb.cache);
    if (!m || 'mac' in m) {
      this.refusedMac.delete(name);
      return m?.mac;
    }
    if (this.refusedMac.get(name) !== m.problem) {
      this.refusedMac.set(name, m.problem);
      this.ctx.log.warn(`node ${name}: ${m.problem}`);
      await this.ctx.kube.event({ kind: 'Node', name, uid: node.metadata?.uid }, 'Warning', 'ManagementPortMacRefused', m.problem).catch(() => {});
    }
    return undefined;
  }

  /** `mgmtMac` absent (none announced, or refused): k8s-<node> is left as it is. */
  nodeOps(name: string, subnet: IPNet, sipam: SubnetIPAM, mgmtMac?: string): Txn {
    const txn = new Txn(this.ctx.nb.cache, `node ${name}`);
    const cidr = formatCIDR(subnet);
    const ids = ownerIds('node', name, { [SUBNET_KEY]: cidr });
    const ls = ensureSwitch(txn, {
      name: nodeSwitch(name),
      other_config: { subnet: cidr, exclude_ips: `${formatIP(sipam.gateway)}..${formatIP(sipam.managementIP)}` },
      external_ids: ids,
    });
    const gw = sipam.gateway;
    const routerMac = macFromIPv4(formatIP(gw));
    ensureRouterPort(txn, CLUSTER_ROUTER, {
      name: nodeRouterPort(name),
      mac: routerMac,
      networks: [withPrefix(gw, subnet.prefix)],
      external_ids: ownerIds('node', name),
    });
    createOrUpdatePort(txn, nodeSwitch(name), {
      name: nodeSwitchRouterPort(name),
      type: 'router',
      addresses: ['router'],
      options: { 'router-port': nodeRouterPort(name) },
      external_ids: ownerIds('node', name),
    });
    if (mgmtMac) ensureManagementPort(txn, name, mgmtMac, sipam.managementIP);
    attachGroup(txn, 'Logical_Switch', ls, CLUSTER_LB_GROUP);
    ensureSwitchAcls(txn, nodeSwitch(name), ls, this.protectedAcls(routerMac), (ids) => ownedBy(ids, 'cluster') !== undefined && ids[OBJECT_KEY] === PROTECTED_OBJECT);
    addressSetAdd(txn, MGMT_ADDRESS_SET, [formatIP(sipam.managementIP)]);
    this.nodeIpOps(txn, name);
    return txn;
  }

  /** A Node's InternalIPs of the cluster's family, canonical; malformed entries are skipped (logged when `warn`). */
  private internalIPs(node: V1Node, warn = false): string[] {
    const out: string[] = [];
    for (const a of node.status?.addresses ?? []) {
      if (a.type !== 'InternalIP') continue;
      try {
        const ip = parseIP(a.address);
        if (ip.family === this.ctx.config.clusterCidr.family) out.push(formatIP(ip));
      } catch {
        if (warn) this.ctx.log.warn(`node ${node.metadata?.name ?? '?'}: ignoring InternalIP "${a.address}"`);
      }
    }
    return out;
  }

  /**
   * Converges the node-IP address set by per-address mutations (concurrent node syncs do not overwrite each other):
   * adds this node's InternalIPs (none once it is deleted) and removes every address no Node in the store has, which
   * covers a changed InternalIP, a deleted Node and Nodes gone while the watcher was down.
   */
  private nodeIpOps(txn: Txn, name: string): void {
    const node = this.ctx.stores.nodes.get(name);
    if (node) addressSetAdd(txn, NODE_IPS_ADDRESS_SET, this.internalIPs(node, true));
    const have = txn.cache.lookupAll('Address_Set', 'name', NODE_IPS_ADDRESS_SET)[0];
    if (!have) return;
    const wanted = new Set(this.ctx.stores.nodes.list().flatMap((n) => this.internalIPs(n)));
    const stale = have.addresses.filter((a) => !wanted.has(a));
    if (stale.length > 0) addressSetRemove(txn, NODE_IPS_ADDRESS_SET, stale);
  }

  private async remove(name: string): Promise<void> {
    const { ctx } = this;
    const txn = new Txn(ctx.nb.cache, `node ${name} delete`);
    const ls = findSwitch(txn, nodeSwitch(name));
    const subnetText = ls?.external_ids[SUBNET_KEY] ?? (ctx.subnets.get(name) ? formatCIDR(ctx.subnets.get(name)!) : undefined);
    let kept: string[] = [];
    if (ls && ownedBy(ls.external_ids, 'node') === name) {
      kept = this.foreignPorts(txn, ls);
      if (kept.length) disownSwitch(txn, ls, isOurs, [OWNER_KEY, KIND_KEY, OBJECT_KEY, SUBNET_KEY]);
      else deleteSwitch(txn, nodeSwitch(name));
    }
    // Only our own router port: another writer's port of that name stays.
    const lrp = txn.cache.lookupAll('Logical_Router_Port', 'name', nodeRouterPort(name))[0];
    if (lrp && ownedBy(lrp.external_ids, 'node') === name) deleteRouterPort(txn, nodeRouterPort(name));
    if (subnetText) addressSetRemove(txn, MGMT_ADDRESS_SET, [formatIP(new SubnetIPAM(parseCIDR(subnetText)).managementIP)]);
    this.nodeIpOps(txn, name);
    await commit(ctx.nb, txn);
    if (kept.length) await this.reportKept(name, kept);
    // Only now, with the switch and its ports gone, are the node's subnet and pod addresses free.
    ctx.ipam.removeSwitch(nodeSwitch(name));
    ctx.subnets.release(name);
    this.ready.delete(name);
    this.exhausted.delete(name);
    this.refusedMac.delete(name);
  }

  /** Names of the switch's ports another writer owns (deleting the switch would delete them). */
  private foreignPorts(txn: Txn, ls: { ports: string[] }): string[] {
    return ls.ports.map((u) => txn.cache.get('Logical_Switch_Port', u)).filter((p) => p !== undefined && !isOurs(p.external_ids)).map((p) => p!.name);
  }

  /** Once: the disowned switch is no longer ours, so later reconciles do not come back to it. */
  private async reportKept(name: string, ports: string[]): Promise<void> {
    const shown = ports.length > 10 ? `${ports.slice(0, 10).join(', ')} and ${ports.length - 10} more` : ports.join(', ');
    const msg = `Node ${name} is gone; its logical switch ${nodeSwitch(name)} is kept, no longer managed by Tessera, because it holds ports Tessera does not own: ${shown}`;
    this.ctx.log.warn(msg);
    await this.ctx.kube.event({ kind: 'Node', name }, 'Warning', 'ForeignPortsKept', msg).catch(() => {});
  }
}
