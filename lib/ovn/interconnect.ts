// The OVN-IC attachment of a logical router, for any NB (a Tessera cluster's, an OpenStack's): the address of its
// port on a transit switch, the ts router port (with its gateway chassis) and switch port, the NB_Global name and
// route options, learned routes. Each operation returns the ops of one transaction; the caller sends them.
// A ts port's address is one per AZ and transit switch in 169.254.100.0/24: derived from the AZ name (and the ts
// name for a ts other than `ts`), stable across restarts and re-enables, then probed past addresses other AZs already
// hold on that transit switch in IC-SB Port_Binding, so two AZs never share one.
import { createHash } from 'node:crypto';
import type { Op, OvsdbClient } from '../ovsdb/index.js';
import type { NBTables, LogicalRouter, LogicalSwitch } from '../ovsdb/models/nb.js';
import { APPLIED_KEY, APPLIED_UID_KEY, LEARNED_ROUTE_KEY, OVERLAPS_KEY, TS_NAME, icIds, macFromIPv4, tsGatewayChassisName, tsRouterPort, tsSwitchPort } from './names.js';
import { Txn } from './txn.js';
import { toOps } from './commit.js';
import { deleteRouterPort, ensureRouterPort } from './router.js';
import { createOrUpdatePort, deletePort, setPortOptions } from './lsp.js';
import { changeNbGlobal } from './nb-global.js';
import { dropRoutesMarked } from './router-children.js';

export const TS_SUBNET = '169.254.100.0/24';
const TS_BASE = '169.254.100.';
const HOSTS = 254; // .1 .. .254

/**
 * First host offset (1..254) tried for an AZ name on a transit switch. On `ts` it depends on the AZ name alone; on
 * another ts the ts name is mixed in, so one AZ's ports on several transit switches (an OpenStack AZ with one router
 * per tenant) get different addresses and `lr-route-list` tells them apart.
 */
export function preferredOffset(az: string, ts: string = TS_NAME): number {
  const h = createHash('sha256').update(ts === TS_NAME ? az : `${az}@${ts}`).digest();
  return (h.readUInt32BE(0) % HOSTS) + 1;
}

export interface TsPortAddress {
  ip: string;
  /** "169.254.100.N/24", the form Logical_Router_Port.networks holds. */
  cidr: string;
  mac: string;
}

export function addressAtOffset(offset: number): TsPortAddress {
  if (!Number.isInteger(offset) || offset < 1 || offset > HOSTS) throw new Error(`ts port offset ${offset} outside 1..${HOSTS}`);
  const ip = `${TS_BASE}${offset}`;
  return { ip, cidr: `${ip}/24`, mac: macFromIPv4(ip) };
}

/**
 * Picks this AZ's address on transit switch `ts`: the preferred one, else the next free one (wrapping), skipping
 * every IP in `taken` (addresses of other AZs' ports on that ts). Throws when all 254 are taken.
 */
export function deriveTsPortAddress(az: string, taken: Iterable<string>, ts: string = TS_NAME): TsPortAddress {
  const used = new Set(taken);
  const start = preferredOffset(az, ts);
  for (let i = 0; i < HOSTS; i++) {
    const off = ((start - 1 + i) % HOSTS) + 1;
    const a = addressAtOffset(off);
    if (!used.has(a.ip)) return a;
  }
  throw new Error(`no free address left in ${TS_SUBNET} for AZ "${az}" on transit switch ${ts}: ${used.size} taken`);
}

/**
 * IPs in an IC-SB Port_Binding `address` ("00:00:00:50:AC:8C 169.254.100.45/24" or several words,
 * as OVN writes LSP addresses). Words that are not IPv4 addresses (MACs, "router") are skipped.
 */
export function ipsOfPortAddress(address: string): string[] {
  const out: string[] = [];
  for (const w of address.split(/\s+/)) {
    const ip = w.split('/')[0];
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) out.push(ip);
  }
  return out;
}

/**
 * Whether two AZs that collided must give way: the AZ whose name sorts later re-derives, so both sides
 * of a race settle on the same answer without talking to each other.
 */
export const yieldsTo = (ourAz: string, otherAz: string): boolean => ourAz > otherAz;

// ---------------------------------------------------------------- NB operations

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
 * Ensures `<az>-<ts>` on the router (MAC, network, gateway chassis in priority order) and `<ts>-<az>` on the transit
 * switch `ts` (`<az>-ts` and `ts-<az>` on the default one). Returns no ops when everything already matches.
 */
export function ensureTsPortOps(nb: Nb, o: { az: string; router: LogicalRouter; ts: LogicalSwitch; addr: TsPortAddress; gateways: GatewayChassisWant[] }): Op[] {
  const lrpName = tsRouterPort(o.az, o.ts.name);
  const lspName = tsSwitchPort(o.az, o.ts.name);
  return ops(nb, 'ic ts port', (txn) => {
    ensureRouterPort(txn, o.router.name, {
      name: lrpName, mac: o.addr.mac, networks: [o.addr.cidr], external_ids: icIds(),
      gateway_chassis: o.gateways.map((w) => ({ name: tsGatewayChassisName(o.az, w.chassis, o.ts.name), chassis_name: w.chassis, priority: w.priority, external_ids: icIds() })),
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

/** Removes `<az>-<ts>` (with its gateway chassis) and `<ts>-<az>` wherever they are referenced. */
export function removeTsPortOps(nb: Nb, az: string, ts: string = TS_NAME): Op[] {
  return ops(nb, 'ic ts port removal', (txn) => {
    deleteRouterPort(txn, tsRouterPort(az, ts));
    deletePort(txn, tsSwitchPort(az, ts));
  });
}

/** Drops every route ovn-ic learned into `router` (they point at peers that are no longer reachable). */
export function removeLearnedRoutesOps(nb: Nb, router: LogicalRouter | undefined): Op[] {
  return ops(nb, 'ic learned routes', (txn) => dropRoutesMarked(txn, router, LEARNED_ROUTE_KEY));
}
