// Makes the NB database match the gateway's desired topology (topology.ts) and its service load balancers, in one
// transaction per pass, touching only rows that differ. Also: join-IP allocation and removal of everything owned.
import { OvsdbClient, OvsdbTransactionError, op, ref, type NamedUuid, type Op, type TlsOptions } from '../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables, type LogicalRouter } from '../lib/ovsdb/models/nb.js';
import { addressAt, contains, formatIP, parseCIDR, parseIP, size } from '../lib/ipnet/index.js';
import { CLUSTER_ROUTER, JOIN_SWITCH, OWNER_KEY, externalSwitch, gatewayRouter, macFromIPv4, nodeSwitch } from '../lib/names.js';
import type { Logger } from '../lib/log.js';
import { clusterJoinPort, JOIN_IP_KEY, joinClusterPort, joinGrPort, NODE_KEY, OWNER, ownedBy } from './names.js';
import { natKey, routeKey, type GatewayTopology, type NatRow, type RouteRow } from './topology.js';
import type { GatewayLb } from './services.js';
import { policyOps, removePolicyOps } from './nb-policies.js';

export type Nb = OvsdbClient<NBTables>;
const b = op(NB_MODEL);

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

const sameMap = (a: Record<string, string>, b2: Record<string, string>): boolean =>
  Object.keys(a).length === Object.keys(b2).length && Object.entries(a).every(([k, v]) => b2[k] === v);
const sameList = (a: readonly string[], b2: readonly string[]): boolean =>
  a.length === b2.length && [...a].sort().every((x, i) => x === [...b2].sort()[i]);
const isOurs = (ids: Record<string, string>, node: string): boolean => ids[OWNER_KEY] === OWNER && ids[NODE_KEY] === node;

/** Whether an NB change can make this node's gateway differ from its desired state (or free a join IP). */
export function relevantToGateway(ev: { table: string; row: object }, node: string): boolean {
  const row = ev.row as { name?: string; external_ids?: Record<string, string> };
  const ours = row.external_ids?.[NODE_KEY] === node;
  switch (ev.table) {
    case 'Logical_Router':
      return row.name === gatewayRouter(node) || row.name === CLUSTER_ROUTER;
    case 'Logical_Switch':
      return row.name === JOIN_SWITCH || row.name === externalSwitch(node) || row.name === node;
    case 'Logical_Router_Port':
      return true; // join IPs are allocated across all router ports
    case 'Logical_Switch_Port':
    case 'Load_Balancer':
      return ours;
    default:
      return ours || ev.table === 'Logical_Router_Static_Route' || ev.table === 'Logical_Router_Policy' || ev.table === 'NAT';
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
 * Links ovn_cluster_router to the join switch at the join CIDR's first address if nothing links them yet (the
 * watcher may own this link; then it is found and left alone). Returns the cluster router's join IP.
 */
export async function ensureClusterJoinLink(nb: Nb, joinCidr: string): Promise<string> {
  checkClusterReady(nb);
  const have = clusterJoinIp(nb, joinCidr);
  if (have) return have;
  const join = parseCIDR(joinCidr);
  const ip = formatIP(addressAt(join, 1));
  const lr = nb.cache.lookup('Logical_Router', 'name', CLUSTER_ROUTER)!;
  const ls = nb.cache.lookup('Logical_Switch', 'name', JOIN_SWITCH)!;
  const ids = { [OWNER_KEY]: OWNER };
  await nb.transact([
    b.wait('Logical_Router_Port', [['name', '==', clusterJoinPort]], ['name'], '==', [], 0),
    b.insert('Logical_Router_Port', { name: clusterJoinPort, mac: macFromIPv4(ip), networks: [`${ip}/${join.prefix}`], external_ids: ids }, 'lrp'),
    b.mutate('Logical_Router', [['_uuid', '==', lr._uuid]], [['ports', 'insert', [ref('lrp')]]]),
    b.insert('Logical_Switch_Port', { name: joinClusterPort, type: 'router', addresses: ['router'], options: { 'router-port': clusterJoinPort }, external_ids: ids }, 'lsp'),
    b.mutate('Logical_Switch', [['_uuid', '==', ls._uuid]], [['ports', 'insert', [ref('lsp')]]]),
  ]);
  await nb.waitFor('Logical_Router_Port', (p) => p.name === clusterJoinPort, 10_000);
  return ip;
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

class Batch {
  readonly ops: Op[] = [];
  private seq = 0;
  name(prefix: string): string {
    return `${prefix}${++this.seq}`;
  }
  push(o: Op): void {
    this.ops.push(o);
  }
}

function diffRoutes(batch: Batch, router: LogicalRouter | undefined, routerRef: string | NamedUuid, nb: Nb, want: RouteRow[], node: string): void {
  const wantByKey = new Map(want.map((r) => [routeKey(r), r]));
  for (const u of router?.static_routes ?? []) {
    const row = nb.cache.get('Logical_Router_Static_Route', u);
    if (!row || !isOurs(row.external_ids, node)) continue;
    const k = routeKey(row);
    const w = wantByKey.get(k);
    if (!w) batch.push(b.mutate('Logical_Router', [['_uuid', '==', routerRef]], [['static_routes', 'delete', [u]]]));
    else {
      if (!sameMap(row.external_ids, w.external_ids)) batch.push(b.update('Logical_Router_Static_Route', [['_uuid', '==', u]], { external_ids: w.external_ids }));
      wantByKey.delete(k);
    }
  }
  for (const w of wantByKey.values()) {
    const n = batch.name('route');
    batch.push(b.insert('Logical_Router_Static_Route', {
      ip_prefix: w.ip_prefix, nexthop: w.nexthop, external_ids: w.external_ids,
      ...(w.policy ? { policy: w.policy } : {}), ...(w.output_port ? { output_port: w.output_port } : {}),
    }, n));
    batch.push(b.mutate('Logical_Router', [['_uuid', '==', routerRef]], [['static_routes', 'insert', [ref(n)]]]));
  }
}

function diffNats(batch: Batch, router: LogicalRouter | undefined, routerRef: string | NamedUuid, nb: Nb, want: NatRow[], node: string): void {
  const wantByKey = new Map(want.map((r) => [natKey(r), r]));
  for (const u of router?.nat ?? []) {
    const row = nb.cache.get('NAT', u);
    if (!row || !isOurs(row.external_ids, node)) continue;
    const k = natKey(row);
    if (!wantByKey.has(k)) batch.push(b.mutate('Logical_Router', [['_uuid', '==', routerRef]], [['nat', 'delete', [u]]]));
    else wantByKey.delete(k);
  }
  for (const w of wantByKey.values()) {
    const n = batch.name('nat');
    batch.push(b.insert('NAT', { type: w.type, logical_ip: w.logical_ip, external_ip: w.external_ip, external_ids: w.external_ids }, n));
    batch.push(b.mutate('Logical_Router', [['_uuid', '==', routerRef]], [['nat', 'insert', [ref(n)]]]));
  }
}

/**
 * One transaction that turns NB into `topo` for `node` (nothing sent when NB already matches). Returns the number
 * of operations sent, 0 when nothing had to change.
 */
export async function applyTopology(nb: Nb, node: string, topo: GatewayTopology): Promise<number> {
  const c = nb.cache;
  const batch = new Batch();

  // Gateway router.
  const gr = c.lookup('Logical_Router', 'name', topo.router.name);
  let grRef: string | NamedUuid;
  if (!gr) {
    batch.push(b.wait('Logical_Router', [['name', '==', topo.router.name]], ['name'], '==', [], 0));
    // The join IP must still be free when we commit: another gateway may have taken it meanwhile.
    const joinNet = topo.routerPorts[0]!.networks[0]!;
    batch.push(b.wait('Logical_Router_Port', [['networks', 'includes', joinNet]], ['name'], '==', [], 0));
    batch.push(b.insert('Logical_Router', { name: topo.router.name, options: topo.router.options, external_ids: topo.router.external_ids }, 'gr'));
    grRef = ref('gr');
  } else {
    grRef = gr._uuid;
    if (!sameMap(gr.options, topo.router.options) || !sameMap(gr.external_ids, topo.router.external_ids)) {
      batch.push(b.update('Logical_Router', [['_uuid', '==', gr._uuid]], { options: topo.router.options, external_ids: topo.router.external_ids }));
    }
  }

  // Router ports.
  const wantPorts = new Set(topo.routerPorts.map((p) => p.name));
  for (const p of topo.routerPorts) {
    const have = c.lookup('Logical_Router_Port', 'name', p.name);
    if (!have) {
      const n = batch.name('lrp');
      batch.push(b.insert('Logical_Router_Port', { name: p.name, mac: p.mac, networks: p.networks, external_ids: p.external_ids }, n));
      batch.push(b.mutate('Logical_Router', [['_uuid', '==', grRef]], [['ports', 'insert', [ref(n)]]]));
      continue;
    }
    if (have.mac !== p.mac || !sameList(have.networks, p.networks) || !sameMap(have.external_ids, p.external_ids)) {
      batch.push(b.update('Logical_Router_Port', [['_uuid', '==', have._uuid]], { mac: p.mac, networks: p.networks, external_ids: p.external_ids }));
    }
    if (!gr?.ports.includes(have._uuid)) batch.push(b.mutate('Logical_Router', [['_uuid', '==', grRef]], [['ports', 'insert', [have._uuid]]]));
  }
  for (const u of gr?.ports ?? []) {
    const p = c.get('Logical_Router_Port', u);
    if (p && isOurs(p.external_ids, node) && !wantPorts.has(p.name)) batch.push(b.mutate('Logical_Router', [['_uuid', '==', grRef]], [['ports', 'delete', [u]]]));
  }

  // External switch.
  const ext = c.lookup('Logical_Switch', 'name', topo.extSwitch.name);
  let extRef: string | NamedUuid;
  if (!ext) {
    batch.push(b.wait('Logical_Switch', [['name', '==', topo.extSwitch.name]], ['name'], '==', [], 0));
    batch.push(b.insert('Logical_Switch', { name: topo.extSwitch.name, external_ids: topo.extSwitch.external_ids }, 'ext'));
    extRef = ref('ext');
  } else {
    extRef = ext._uuid;
    if (!sameMap(ext.external_ids, topo.extSwitch.external_ids)) batch.push(b.update('Logical_Switch', [['_uuid', '==', ext._uuid]], { external_ids: topo.extSwitch.external_ids }));
  }

  // Switch ports (on join and on ext_<node>).
  for (const p of topo.switchPorts) {
    let swRef: string | NamedUuid;
    let swPorts: string[] = [];
    if (p.switch === topo.extSwitch.name) {
      swRef = extRef;
      swPorts = ext?.ports ?? [];
    } else {
      const sw = c.lookup('Logical_Switch', 'name', p.switch);
      if (!sw) throw new NotReadyError(`logical switch ${p.switch} not found in NB`);
      swRef = sw._uuid;
      swPorts = sw.ports;
    }
    const have = c.lookup('Logical_Switch_Port', 'name', p.name);
    if (!have) {
      const n = batch.name('lsp');
      batch.push(b.insert('Logical_Switch_Port', { name: p.name, type: p.type, addresses: p.addresses, options: p.options, external_ids: p.external_ids }, n));
      batch.push(b.mutate('Logical_Switch', [['_uuid', '==', swRef]], [['ports', 'insert', [ref(n)]]]));
      continue;
    }
    if (have.type !== p.type || !sameList(have.addresses, p.addresses) || !sameMap(have.options, p.options) || !sameMap(have.external_ids, p.external_ids)) {
      batch.push(b.update('Logical_Switch_Port', [['_uuid', '==', have._uuid]], { type: p.type, addresses: p.addresses, options: p.options, external_ids: p.external_ids }));
    }
    if (!swPorts.includes(have._uuid)) batch.push(b.mutate('Logical_Switch', [['_uuid', '==', swRef]], [['ports', 'insert', [have._uuid]]]));
  }
  // Stale localnet ports (e.g. after a bridge rename) on our external switch.
  const wantLsps = new Set(topo.switchPorts.map((p) => p.name));
  for (const u of ext?.ports ?? []) {
    const p = c.get('Logical_Switch_Port', u);
    if (p && isOurs(p.external_ids, node) && !wantLsps.has(p.name)) batch.push(b.mutate('Logical_Switch', [['_uuid', '==', extRef]], [['ports', 'delete', [u]]]));
  }

  diffRoutes(batch, gr, grRef, nb, topo.routes, node);
  diffNats(batch, gr, grRef, nb, topo.nats, node);
  const cr = c.lookup('Logical_Router', 'name', CLUSTER_ROUTER);
  if (!cr) throw new NotReadyError(`logical router ${CLUSTER_ROUTER} not found in NB`);
  diffRoutes(batch, cr, cr._uuid, nb, topo.clusterRoutes, node);
  for (const o of policyOps(nb, cr, topo.clusterPolicies, node, (p) => batch.name(p))) batch.push(o);

  if (batch.ops.length === 0) return 0;
  await nb.transact(batch.ops);
  return batch.ops.length;
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
  const ops: Op[] = [];
  const attach = (u: string | NamedUuid, have?: string): void => {
    if (!have || !gr.load_balancer.includes(have)) ops.push(b.mutate('Logical_Router', [['_uuid', '==', gr._uuid]], [['load_balancer', 'insert', [u]]]));
    if (ls && (!have || !ls.load_balancer.includes(have))) ops.push(b.mutate('Logical_Switch', [['_uuid', '==', ls._uuid]], [['load_balancer', 'insert', [u]]]));
  };
  const wantByName = new Map(want.map((l) => [l.name, l]));
  let seq = 0;
  for (const have of c.list('Load_Balancer')) {
    if (!isOurs(have.external_ids, node)) continue;
    const w = wantByName.get(have.name);
    if (!w) {
      // Weak references: deleting the row takes it off the GR and the switch.
      ops.push(b.delete('Load_Balancer', [['_uuid', '==', have._uuid]]));
      continue;
    }
    wantByName.delete(have.name);
    if (have.protocol !== w.protocol || !sameMap(have.vips, w.vips) || !sameMap(have.options, w.options) || !sameMap(have.external_ids, w.external_ids)) {
      ops.push(b.update('Load_Balancer', [['_uuid', '==', have._uuid]], { protocol: w.protocol, vips: w.vips, options: w.options, external_ids: w.external_ids }));
    }
    attach(have._uuid, have._uuid);
  }
  for (const w of wantByName.values()) {
    const n = `lb${++seq}`;
    ops.push(b.insert('Load_Balancer', { name: w.name, protocol: w.protocol, vips: w.vips, options: w.options, external_ids: w.external_ids }, n));
    attach(ref(n));
  }
  if (ops.length > 0) await nb.transact(ops);
  return ops.length;
}

/** Removes every NB row the gateway created for `node` (GR, its ports, ext switch, join port, routes, policies, LBs). */
export async function removeGateway(nb: Nb, node: string): Promise<number> {
  const c = nb.cache;
  const ops: Op[] = [];
  const gr = c.lookup('Logical_Router', 'name', gatewayRouter(node));
  if (gr && isOurs(gr.external_ids, node)) ops.push(b.delete('Logical_Router', [['_uuid', '==', gr._uuid]]));
  const ext = c.lookup('Logical_Switch', 'name', externalSwitch(node));
  if (ext && isOurs(ext.external_ids, node)) ops.push(b.delete('Logical_Switch', [['_uuid', '==', ext._uuid]]));
  const jp = c.lookup('Logical_Switch_Port', 'name', joinGrPort(node));
  const join = c.lookup('Logical_Switch', 'name', JOIN_SWITCH);
  if (jp && join && join.ports.includes(jp._uuid)) ops.push(b.mutate('Logical_Switch', [['_uuid', '==', join._uuid]], [['ports', 'delete', [jp._uuid]]]));
  const cr = c.lookup('Logical_Router', 'name', CLUSTER_ROUTER);
  for (const u of cr?.static_routes ?? []) {
    const r = c.get('Logical_Router_Static_Route', u);
    if (r && isOurs(r.external_ids, node)) ops.push(b.mutate('Logical_Router', [['_uuid', '==', cr!._uuid]], [['static_routes', 'delete', [u]]]));
  }
  if (cr) ops.push(...removePolicyOps(nb, cr, node));
  for (const lb of c.list('Load_Balancer')) {
    if (isOurs(lb.external_ids, node)) ops.push(b.delete('Load_Balancer', [['_uuid', '==', lb._uuid]]));
  }
  if (ops.length > 0) await nb.transact(ops);
  return ops.length;
}

export { ownedBy };
