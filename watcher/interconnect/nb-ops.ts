// Small named NB operations for the interconnection: the ts router port and its switch port, gateway chassis,
// NB_Global name/options, learned routes. Each returns ops for one transaction; the controller composes them.
import { ref, type Op, type OvsdbClient } from '../../lib/ovsdb/index.js';
import type { NBTables, LogicalRouter, LogicalRouterPort, LogicalSwitch } from '../../lib/ovsdb/models/nb.js';
import { OWNER_KEY } from '../../lib/names.js';
import { tsGatewayChassisName, tsRouterPort, tsSwitchPort, type TsPortAddress } from './address.js';

export const IC_OWNER = 'tessera-interconnect';
/** NB_Global external_ids: the applied config (fingerprint), the uid of the ConfigMap it came from, sticky overlaps. */
export const APPLIED_KEY = 'tessera.io/ic-config';
export const APPLIED_UID_KEY = 'tessera.io/ic-config-uid';
export const OVERLAPS_KEY = 'tessera.io/ic-overlaps';
/** The route filter: OVN 23.03 reads ic-route-blacklist, later releases ic-route-denylist; both are written. */
export const ROUTE_FILTER_KEYS = ['ic-route-blacklist', 'ic-route-denylist'] as const;
export const ROUTE_OPTION_KEYS = ['ic-route-adv', 'ic-route-learn', ...ROUTE_FILTER_KEYS] as const;
/** ovn-ic marks the static routes it learned with this external_ids key. */
export const LEARNED_ROUTE_KEY = 'ic-learned-route';

type Nb = OvsdbClient<NBTables>;

export interface GatewayChassisWant {
  chassis: string;
  priority: number;
}

/** HA priorities in gw-nodes order: the first node is preferred. */
export const gatewayPriorities = (chassis: string[]): GatewayChassisWant[] => chassis.map((c, i) => ({ chassis: c, priority: 100 - i }));

/** NB_Global: AZ name, applied-config record, and the ovn-ic route options (removed when `routes` is undefined). */
export function nbGlobalOps(nb: Nb, o: { name: string; external: Record<string, string>; dropExternal: string[]; routes?: { adv: boolean; learn: boolean; denylist: string[] } }): Op[] {
  const opts: Record<string, string> = {};
  if (o.routes) {
    opts['ic-route-adv'] = String(o.routes.adv);
    opts['ic-route-learn'] = String(o.routes.learn);
    if (o.routes.denylist.length) for (const k of ROUTE_FILTER_KEYS) opts[k] = o.routes.denylist.join(',');
  }
  const dropExt = [...new Set([...o.dropExternal, ...Object.keys(o.external)])];
  return [
    nb.op.update('NB_Global', [], { name: o.name }),
    // Map "insert" never overwrites a key, so delete first: mutations apply in order within the op.
    nb.op.mutate('NB_Global', [], [['options', 'delete', [...ROUTE_OPTION_KEYS]], ['options', 'insert', opts]]),
    nb.op.mutate('NB_Global', [], [['external_ids', 'delete', dropExt], ['external_ids', 'insert', o.external]]),
  ];
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/**
 * Ensures `<az>-ts` on the router (MAC, network, gateway chassis in priority order) and `ts-<az>` on the transit
 * switch. Returns no ops when everything already matches.
 */
/** Set by ovn-ic on a transit switch port once it has allocated the port's tunnel key in IC-SB. */
export const TNL_KEY_OPTION = 'requested-tnl-key';

export function ensureTsPortOps(nb: Nb, o: { az: string; router: LogicalRouter; ts: LogicalSwitch; addr: TsPortAddress; gateways: GatewayChassisWant[] }): Op[] {
  const ops: Op[] = [];
  const lrpName = tsRouterPort(o.az);
  const lspName = tsSwitchPort(o.az);
  const owner = { [OWNER_KEY]: IC_OWNER };
  const lrp = nb.cache.lookup('Logical_Router_Port', 'name', lrpName);
  const current = lrp ? lrp.gateway_chassis.map((u) => nb.cache.get('Gateway_Chassis', u)).filter((g) => g !== undefined) : [];
  const gwMatch = current.length === o.gateways.length &&
    o.gateways.every((w) => current.some((g) => g.chassis_name === w.chassis && g.priority === w.priority && g.name === tsGatewayChassisName(o.az, w.chassis)));
  const gwRefs = o.gateways.map((_, i) => ref(`gw${i}`));
  const gwInserts = () => o.gateways.map((w, i) => nb.op.insert('Gateway_Chassis', { name: tsGatewayChassisName(o.az, w.chassis), chassis_name: w.chassis, priority: w.priority, external_ids: owner }, `gw${i}`));
  if (!lrp) {
    ops.push(...gwInserts());
    ops.push(nb.op.insert('Logical_Router_Port', { name: lrpName, mac: o.addr.mac, networks: [o.addr.cidr], gateway_chassis: gwRefs, external_ids: owner }, 'lrp'));
    ops.push(nb.op.mutate('Logical_Router', [['_uuid', '==', o.router._uuid]], [['ports', 'insert', [ref('lrp')]]]));
  } else {
    if (lrp.mac !== o.addr.mac || !sameSet(lrp.networks, [o.addr.cidr])) {
      ops.push(nb.op.update('Logical_Router_Port', [['_uuid', '==', lrp._uuid]], { mac: o.addr.mac, networks: [o.addr.cidr] }));
    }
    if (!gwMatch) {
      // Gateway_Chassis rows are not root: replacing the references garbage-collects the old ones.
      ops.push(...gwInserts());
      ops.push(nb.op.update('Logical_Router_Port', [['_uuid', '==', lrp._uuid]], { gateway_chassis: gwRefs }));
    }
    if (!o.router.ports.includes(lrp._uuid)) ops.push(nb.op.mutate('Logical_Router', [['_uuid', '==', o.router._uuid]], [['ports', 'insert', [lrp._uuid]]]));
  }
  const lsp = nb.cache.lookup('Logical_Switch_Port', 'name', lspName);
  if (!lsp) {
    ops.push(nb.op.insert('Logical_Switch_Port', { name: lspName, type: 'router', addresses: ['router'], options: { 'router-port': lrpName }, external_ids: owner }, 'lsp'));
    ops.push(nb.op.mutate('Logical_Switch', [['_uuid', '==', o.ts._uuid]], [['ports', 'insert', [ref('lsp')]]]));
  } else {
    if (lsp.type !== 'router' || !sameSet(lsp.addresses, ['router'])) {
      ops.push(nb.op.update('Logical_Switch_Port', [['_uuid', '==', lsp._uuid]], { type: 'router', addresses: ['router'] }));
    }
    // Only our key changes: options also carries ovn-ic's requested-tnl-key (the port's IC-wide tunnel key),
    // and dropping it would make northd re-key the port under ovn-controller's feet.
    if (lsp.options['router-port'] !== lrpName) {
      ops.push(nb.op.mutate('Logical_Switch_Port', [['_uuid', '==', lsp._uuid]], [['options', 'delete', ['router-port']]]));
      ops.push(nb.op.mutate('Logical_Switch_Port', [['_uuid', '==', lsp._uuid]], [['options', 'insert', { 'router-port': lrpName }]]));
    }
    if (!o.ts.ports.includes(lsp._uuid)) ops.push(nb.op.mutate('Logical_Switch', [['_uuid', '==', o.ts._uuid]], [['ports', 'insert', [lsp._uuid]]]));
  }
  return ops;
}

/** Removes `<az>-ts` (with its gateway chassis) and `ts-<az>` wherever they are referenced. */
export function removeTsPortOps(nb: Nb, az: string): Op[] {
  const ops: Op[] = [];
  const lrp = nb.cache.lookup('Logical_Router_Port', 'name', tsRouterPort(az));
  if (lrp) {
    for (const r of nb.cache.filter('Logical_Router', (r) => r.ports.includes(lrp._uuid))) {
      ops.push(nb.op.mutate('Logical_Router', [['_uuid', '==', r._uuid]], [['ports', 'delete', [lrp._uuid]]]));
    }
  }
  const lsp = nb.cache.lookup('Logical_Switch_Port', 'name', tsSwitchPort(az));
  if (lsp) {
    for (const s of nb.cache.filter('Logical_Switch', (s) => s.ports.includes(lsp._uuid))) {
      ops.push(nb.op.mutate('Logical_Switch', [['_uuid', '==', s._uuid]], [['ports', 'delete', [lsp._uuid]]]));
    }
  }
  return ops;
}

/** Drops every route ovn-ic learned into `router` (they point at peers that are no longer reachable). */
export function removeLearnedRoutesOps(nb: Nb, router: LogicalRouter | undefined): Op[] {
  if (!router) return [];
  const learned = router.static_routes.filter((u) => {
    const r = nb.cache.get('Logical_Router_Static_Route', u);
    return r !== undefined && LEARNED_ROUTE_KEY in r.external_ids;
  });
  return learned.length ? [nb.op.mutate('Logical_Router', [['_uuid', '==', router._uuid]], [['static_routes', 'delete', learned]])] : [];
}

/** Networks of the router's ports other than `except`: the "connected" routes ovn-ic advertises. */
export function routerPortNetworks(nb: Nb, router: LogicalRouter, except: string): { prefix: string; port: LogicalRouterPort }[] {
  const out: { prefix: string; port: LogicalRouterPort }[] = [];
  for (const u of router.ports) {
    const p = nb.cache.get('Logical_Router_Port', u);
    if (!p || p.name === except) continue;
    for (const n of p.networks) out.push({ prefix: n, port: p });
  }
  return out;
}
