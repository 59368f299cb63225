// Makes the NB database match the gateway's desired topology (topology.ts) and its service load balancers, in one
// transaction per pass, touching only rows that differ. Also: join-IP allocation and removal of everything owned.
import { OvsdbClient, OvsdbTransactionError, type TlsOptions } from '../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../lib/ovsdb/models/nb.js';
import { addressAt, contains, formatIP, parseCIDR, parseIP, size } from '../lib/ipnet/index.js';
import { CLUSTER_ROUTER, GATEWAY_NODE_KEY, JOIN_IP_KEY, JOIN_SWITCH, externalSwitch, gatewayRouter, isGatewayOurs, joinGrPort, nodeSwitch } from '../lib/ovn/names.js';
import { Txn } from '../lib/ovn/txn.js';
import { commitAlone } from '../lib/ovn/commit.js';
import { deleteRouter, deleteRouterPort, ensureRouter, ensureRouterPort } from '../lib/ovn/router.js';
import { deleteSwitch, ensureSwitch } from '../lib/ovn/switch.js';
import { createOrUpdatePort, deletePort } from '../lib/ovn/lsp.js';
import { attachLoadBalancer, deleteLoadBalancer, ensureLoadBalancer } from '../lib/ovn/load-balancer.js';
import { convergeNats, convergeRouterPolicies, convergeStaticRoutes } from '../lib/ovn/router-children.js';
import type { Logger } from '../lib/log.js';
import type { GatewayTopology } from './topology.js';
import type { GatewayLb } from './services.js';
import { isDefaultVpcSubnetSwitch } from './subnets.js';

export type Nb = OvsdbClient<NBTables>;

export const NB_TABLES = [
  'Logical_Router', 'Logical_Router_Port', 'Logical_Switch', 'Logical_Switch_Port',
  'Logical_Router_Static_Route', 'Logical_Router_Policy', 'NAT', 'Load_Balancer',
] as const;

export async function connectNb(remotes: string[], log: Logger, tls?: TlsOptions): Promise<Nb> {
  const nb = await OvsdbClient.connect(NB_MODEL, {
    remotes,
    tls,
    logger: { debug: (m: string) => log.debug(m), info: (m: string) => log.info(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) },
  });
  await nb.monitor([...NB_TABLES]);
  return nb;
}

const ours = (node: string) => (ids: Record<string, string>): boolean => isGatewayOurs(ids, node);

/** Whether an NB change can make this node's gateway differ from its desired state (or free a join IP). */
export function relevantToGateway(ev: { table: string; row: object }, node: string): boolean {
  const row = ev.row as { name?: string; external_ids?: Record<string, string> };
  const forNode = row.external_ids?.[GATEWAY_NODE_KEY] === node;
  switch (ev.table) {
    case 'Logical_Router':
      return row.name === gatewayRouter(node) || row.name === CLUSTER_ROUTER;
    case 'Logical_Switch':
      return row.name === JOIN_SWITCH || row.name === externalSwitch(node) || row.name === node || isDefaultVpcSubnetSwitch(row);
    case 'Logical_Router_Port':
      return true; // join IPs are allocated across all router ports
    case 'Logical_Switch_Port':
    case 'Load_Balancer':
      return forNode;
    default:
      return forNode || ev.table === 'Logical_Router_Static_Route' || ev.table === 'Logical_Router_Policy' || ev.table === 'NAT';
  }
}

/** The cluster router's address on the join switch (from its port whose network lies in the join CIDR). */
export function clusterJoinIp(nb: Nb, joinCidr: string): string | undefined {
  const join = parseCIDR(joinCidr);
  const lr = nb.cache.lookup('Logical_Router', 'name', CLUSTER_ROUTER);
  if (!lr) return undefined;
  for (const pu of lr.ports) {
    const p = nb.cache.get('Logical_Router_Port', pu);
    for (const n of p?.networks ?? []) {
      const ip = n.split('/')[0]!;
      if (contains(join, parseIP(ip))) return ip;
    }
  }
  return undefined;
}

/** What must exist before a gateway can attach: the cluster router and the join switch (the watcher's master-init). */
export function checkClusterReady(nb: Nb): void {
  if (!nb.cache.lookup('Logical_Router', 'name', CLUSTER_ROUTER)) throw new NotReadyError(`logical router ${CLUSTER_ROUTER} not found in NB (has the watcher's master-init run?)`);
  if (!nb.cache.lookup('Logical_Switch', 'name', JOIN_SWITCH)) throw new NotReadyError(`logical switch ${JOIN_SWITCH} not found in NB (has the watcher's master-init run?)`);
}

export class NotReadyError extends Error {}

/**
 * The cluster router's join IP. The link (rtoj-/jtor-ovn_cluster_router) has one writer, the watcher's master-init;
 * until it exists this throws NotReadyError, and the caller retries.
 */
export async function ensureClusterJoinLink(nb: Nb, joinCidr: string): Promise<string> {
  checkClusterReady(nb);
  const have = clusterJoinIp(nb, joinCidr);
  if (!have) throw new NotReadyError(`${CLUSTER_ROUTER} has no port in the join CIDR ${joinCidr} yet (the watcher's master-init links it to ${JOIN_SWITCH})`);
  return have;
}

/** Addresses in the join CIDR already used by any router port. */
function usedJoinIps(nb: Nb, joinCidr: string): Set<string> {
  const join = parseCIDR(joinCidr);
  const used = new Set<string>();
  for (const p of nb.cache.list('Logical_Router_Port')) {
    for (const n of p.networks) {
      const ip = n.split('/')[0]!;
      try {
        if (contains(join, parseIP(ip))) used.add(ip);
      } catch {
        /* not an address we care about */
      }
    }
  }
  return used;
}

/**
 * The GR's join IP: the one recorded on GR_<node> if it exists (stable across restarts), else the lowest free
 * address after the cluster router's. The caller's transaction asserts the address is still free (joinIpGuard).
 */
export function pickJoinIp(nb: Nb, node: string, joinCidr: string): string {
  const gr = nb.cache.lookup('Logical_Router', 'name', gatewayRouter(node));
  const recorded = gr?.external_ids[JOIN_IP_KEY];
  if (recorded) return recorded;
  const join = parseCIDR(joinCidr);
  const used = usedJoinIps(nb, joinCidr);
  const n = size(join);
  for (let i = 2n; i < n - 1n; i++) {
    const ip = formatIP(addressAt(join, i));
    if (!used.has(ip)) return ip;
  }
  throw new Error(`join CIDR ${joinCidr} has no free address for ${gatewayRouter(node)}`);
}

/**
 * One transaction that turns NB into `topo` for `node` (nothing sent when NB already matches). Returns the number
 * of operations sent, 0 when nothing had to change.
 */
export async function applyTopology(nb: Nb, node: string, topo: GatewayTopology): Promise<number> {
  const c = nb.cache;
  const txn = new Txn(c, `gateway ${node}`);
  const mine = ours(node);

  const gr = c.lookup('Logical_Router', 'name', topo.router.name);
  // The join IP must still be free when we commit: another gateway may have taken it meanwhile.
  if (!gr) txn.assertAbsent('Logical_Router_Port', [['networks', 'includes', topo.routerPorts[0]!.networks[0]!]]);
  const grRef = ensureRouter(txn, { name: topo.router.name, options: topo.router.options, external_ids: topo.router.external_ids });
  for (const p of topo.routerPorts) ensureRouterPort(txn, topo.router.name, p);
  const wantPorts = new Set(topo.routerPorts.map((p) => p.name));
  for (const u of gr?.ports ?? []) {
    const p = c.get('Logical_Router_Port', u);
    if (p && mine(p.external_ids) && !wantPorts.has(p.name)) deleteRouterPort(txn, p.name);
  }

  const ext = c.lookup('Logical_Switch', 'name', topo.extSwitch.name);
  ensureSwitch(txn, { name: topo.extSwitch.name, other_config: ext?.other_config ?? {}, external_ids: topo.extSwitch.external_ids });
  for (const p of topo.switchPorts) {
    if (p.switch !== topo.extSwitch.name && !c.lookup('Logical_Switch', 'name', p.switch)) throw new NotReadyError(`logical switch ${p.switch} not found in NB`);
    createOrUpdatePort(txn, p.switch, p);
  }
  // Stale localnet ports (e.g. after a bridge rename) on our external switch.
  const wantLsps = new Set(topo.switchPorts.map((p) => p.name));
  for (const u of ext?.ports ?? []) {
    const p = c.get('Logical_Switch_Port', u);
    if (p && mine(p.external_ids) && !wantLsps.has(p.name)) deletePort(txn, p.name);
  }

  convergeStaticRoutes(txn, grRef, gr?.static_routes ?? [], topo.routes, mine);
  convergeNats(txn, grRef, gr?.nat ?? [], topo.nats, mine);
  const cr = c.lookup('Logical_Router', 'name', CLUSTER_ROUTER);
  if (!cr) throw new NotReadyError(`logical router ${CLUSTER_ROUTER} not found in NB`);
  convergeStaticRoutes(txn, cr._uuid, cr.static_routes, topo.clusterRoutes, mine);
  convergeRouterPolicies(txn, cr._uuid, cr.policies, topo.clusterPolicies, mine);
  return commitAlone(nb, txn);
}

/**
 * Picks the GR's join IP, builds the topology with it and applies it. Two gateways starting together may pick
 * the same free address; the loser's transaction fails on its `wait` guard, and it picks again once its cache has
 * seen the winner's row (bounded retries). Returns the join IP and the ops sent.
 */
export async function applyGateway(nb: Nb, node: string, joinCidr: string, build: (joinIp: string) => GatewayTopology): Promise<{ joinIp: string; ops: number }> {
  for (let attempt = 1; ; attempt++) {
    const joinIp = pickJoinIp(nb, node, joinCidr);
    try {
      return { joinIp, ops: await applyTopology(nb, node, build(joinIp)) };
    } catch (err) {
      if (!(err instanceof OvsdbTransactionError && err.op === 'wait') || attempt >= 5) throw err;
      // Give the monitor time to deliver the competing insert before picking again.
      await new Promise((r) => setTimeout(r, 50 * attempt + Math.floor(Math.random() * 50)));
    }
  }
}

/**
 * Makes GR_<node>'s service load balancers exactly `want`: updates in place (one row per service and protocol, so
 * endpoint churn is one update), creates missing ones, deletes the ones whose service is gone. The same rows hang
 * off the node's own logical switch, so its pods reach <node IP>:<nodePort> and external IPs by DNAT before routing
 * (the router would send node-IP traffic to the management port). Returns ops sent.
 */
export async function applyLoadBalancers(nb: Nb, node: string, want: GatewayLb[]): Promise<number> {
  const c = nb.cache;
  const gr = c.lookup('Logical_Router', 'name', gatewayRouter(node));
  if (!gr) throw new NotReadyError(`${gatewayRouter(node)} does not exist yet`);
  const ls = c.lookup('Logical_Switch', 'name', nodeSwitch(node));
  const txn = new Txn(c, `gateway ${node} load balancers`);
  const wantByName = new Map(want.map((l) => [l.name, l]));
  for (const have of c.list('Load_Balancer')) {
    // Weak references: deleting the row takes it off the GR and the switch.
    if (isGatewayOurs(have.external_ids, node) && !wantByName.has(have.name)) deleteLoadBalancer(txn, have.name);
  }
  for (const w of wantByName.values()) {
    const lb = ensureLoadBalancer(txn, { ...w, selection_fields: [] });
    attachLoadBalancer(txn, 'Logical_Router', gr, lb);
    if (ls) attachLoadBalancer(txn, 'Logical_Switch', ls, lb);
  }
  return commitAlone(nb, txn);
}

/** Removes every NB row the gateway created for `node` (GR, its ports, ext switch, join port, routes, policies, LBs). */
export async function removeGateway(nb: Nb, node: string): Promise<number> {
  const c = nb.cache;
  const txn = new Txn(c, `gateway ${node} removal`);
  const mine = ours(node);
  const gr = c.lookup('Logical_Router', 'name', gatewayRouter(node));
  if (gr && mine(gr.external_ids)) deleteRouter(txn, gr.name);
  const ext = c.lookup('Logical_Switch', 'name', externalSwitch(node));
  if (ext && mine(ext.external_ids)) deleteSwitch(txn, ext.name);
  deletePort(txn, joinGrPort(node));
  const cr = c.lookup('Logical_Router', 'name', CLUSTER_ROUTER);
  if (cr) {
    convergeStaticRoutes(txn, cr._uuid, cr.static_routes, [], mine);
    convergeRouterPolicies(txn, cr._uuid, cr.policies, [], mine);
  }
  for (const lb of c.list('Load_Balancer')) if (mine(lb.external_ids)) deleteLoadBalancer(txn, lb.name);
  return commitAlone(nb, txn);
}

