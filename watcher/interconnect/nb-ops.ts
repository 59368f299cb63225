// The interconnection's NB changes, composed from lib/ovn: the ts router port (with its gateway chassis) and its
// switch port, NB_Global name/options/records, learned routes. Each returns the operations of one transaction; the
// controller sends them.
import type { Op, OvsdbClient } from '../../lib/ovsdb/index.js';
import type { NBTables, LogicalRouter, LogicalRouterPort, LogicalSwitch } from '../../lib/ovsdb/models/nb.js';
import { APPLIED_KEY, APPLIED_UID_KEY, LEARNED_ROUTE_KEY, OVERLAPS_KEY, icIds, tsGatewayChassisName, tsRouterPort, tsSwitchPort } from '../../lib/ovn/names.js';
import { Txn } from '../../lib/ovn/txn.js';
import { toOps } from '../../lib/ovn/commit.js';
import { deleteRouterPort, ensureRouterPort } from '../../lib/ovn/router.js';
import { createOrUpdatePort, deletePort, setPortOptions } from '../../lib/ovn/lsp.js';
import { changeNbGlobal } from '../../lib/ovn/nb-global.js';
import { dropRoutesMarked } from '../../lib/ovn/router-children.js';
import type { TsPortAddress } from './address.js';

export { APPLIED_KEY, APPLIED_UID_KEY, IC_OWNER, LEARNED_ROUTE_KEY, OVERLAPS_KEY } from '../../lib/ovn/names.js';
/** The route filter: OVN 23.03 reads ic-route-blacklist, later releases ic-route-denylist; both are written. */
export const ROUTE_FILTER_KEYS = ['ic-route-blacklist', 'ic-route-denylist'] as const;
export const ROUTE_OPTION_KEYS = ['ic-route-adv', 'ic-route-learn', ...ROUTE_FILTER_KEYS] as const;
/** Set by ovn-ic on a transit switch port once it has allocated the port's tunnel key in IC-SB. */
export const TNL_KEY_OPTION = 'requested-tnl-key';

type Nb = OvsdbClient<NBTables>;

export interface GatewayChassisWant {
  chassis: string;
  priority: number;
}

/** HA priorities in gw-nodes order: the first node is preferred. */
export const gatewayPriorities = (chassis: string[]): GatewayChassisWant[] => chassis.map((c, i) => ({ chassis: c, priority: 100 - i }));

function ops(nb: Nb, label: string, build: (txn: Txn) => void): Op[] {
  const txn = new Txn(nb.cache, label);
  build(txn);
  return toOps(txn.ops);
}

/** NB_Global: AZ name, applied-config record, and the ovn-ic route options (removed when `routes` is undefined). */
export function nbGlobalOps(nb: Nb, o: { name: string; external: Record<string, string>; dropExternal: string[]; routes?: { adv: boolean; learn: boolean; denylist: string[] } }): Op[] {
  const opts: Record<string, string> = {};
  if (o.routes) {
    opts['ic-route-adv'] = String(o.routes.adv);
    opts['ic-route-learn'] = String(o.routes.learn);
    if (o.routes.denylist.length) for (const k of ROUTE_FILTER_KEYS) opts[k] = o.routes.denylist.join(',');
  }
  return ops(nb, 'ic NB_Global', (txn) => changeNbGlobal(txn, {
    name: o.name, dropOptions: ROUTE_OPTION_KEYS, setOptions: opts, dropExternalIds: o.dropExternal, setExternalIds: o.external,
  }));
}

/** Advertising and learning off, the other route options gone (teardown's first step). */
export function routesOffOps(nb: Nb): Op[] {
  return ops(nb, 'ic routes off', (txn) => changeNbGlobal(txn, { dropOptions: ROUTE_OPTION_KEYS, setOptions: { 'ic-route-adv': 'false', 'ic-route-learn': 'false' } }));
}

/** The interconnection's NB_Global options and records removed (teardown). */
export function forgetNbGlobalOps(nb: Nb): Op[] {
  return ops(nb, 'ic forget', (txn) => changeNbGlobal(txn, { dropOptions: ROUTE_OPTION_KEYS, dropExternalIds: [APPLIED_KEY, APPLIED_UID_KEY, OVERLAPS_KEY] }));
}

/** The AZ name cleared (teardown's last step). */
export function clearAzNameOps(nb: Nb): Op[] {
  return ops(nb, 'ic az name', (txn) => changeNbGlobal(txn, { name: '' }));
}

/**
 * Ensures `<az>-ts` on the router (MAC, network, gateway chassis in priority order) and `ts-<az>` on the transit
 * switch. Returns no ops when everything already matches.
 */
export function ensureTsPortOps(nb: Nb, o: { az: string; router: LogicalRouter; ts: LogicalSwitch; addr: TsPortAddress; gateways: GatewayChassisWant[] }): Op[] {
  const lrpName = tsRouterPort(o.az);
  const lspName = tsSwitchPort(o.az);
  return ops(nb, 'ic ts port', (txn) => {
    ensureRouterPort(txn, o.router.name, {
      name: lrpName, mac: o.addr.mac, networks: [o.addr.cidr], external_ids: icIds(),
      gateway_chassis: o.gateways.map((w) => ({ name: tsGatewayChassisName(o.az, w.chassis), chassis_name: w.chassis, priority: w.priority, external_ids: icIds() })),
    });
    const lsp = nb.cache.lookup('Logical_Switch_Port', 'name', lspName);
    // Only our option key is set on an existing port: options also carries ovn-ic's requested-tnl-key (the port's
    // IC-wide tunnel key), and dropping it would make northd re-key the port under ovn-controller's feet.
    if (lsp && o.ts.ports.includes(lsp._uuid)) {
      createOrUpdatePort(txn, o.ts.name, { name: lspName, type: 'router', addresses: ['router'], options: lsp.options, external_ids: lsp.external_ids });
      setPortOptions(txn, lsp, { 'router-port': lrpName });
    } else {
      createOrUpdatePort(txn, o.ts.name, { name: lspName, type: 'router', addresses: ['router'], options: { 'router-port': lrpName }, external_ids: icIds() });
    }
  });
}

/** Removes `<az>-ts` (with its gateway chassis) and `ts-<az>` wherever they are referenced. */
export function removeTsPortOps(nb: Nb, az: string): Op[] {
  return ops(nb, 'ic ts port removal', (txn) => {
    deleteRouterPort(txn, tsRouterPort(az));
    deletePort(txn, tsSwitchPort(az));
  });
}

/** Drops every route ovn-ic learned into `router` (they point at peers that are no longer reachable). */
export function removeLearnedRoutesOps(nb: Nb, router: LogicalRouter | undefined): Op[] {
  return ops(nb, 'ic learned routes', (txn) => dropRoutesMarked(txn, router, LEARNED_ROUTE_KEY));
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
