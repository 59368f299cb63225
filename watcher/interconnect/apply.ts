// Applying an ovn-ic-config: the managed ovn-ic, gateway labels, the transit switch, the ts router port with its
// HA gateway chassis, the route plan (denylist, overlaps) and the NB_Global options, then the status.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { APPLIED_KEY, APPLIED_UID_KEY, CLUSTER_ROUTER, LEARNED_ROUTE_KEY, OVERLAPS_KEY, tsRouterPort, tsSwitchPort } from '../../lib/ovn/names.js';
import { SB_CHASSIS_INTERCONN_KEY } from '../../lib/ovnic/gateway-flag.js';
import { fingerprint, icRemotes, type IcConfig } from './config.js';
import { ROUTE_FILTER_KEYS, deriveTsPortAddress, ensureTsPortOps, gatewayPriorities, ipsOfPortAddress, nbGlobalOps, yieldsTo, type TsPortAddress } from '../../lib/ovn/interconnect.js';
import type { LogicalRouter, LogicalRouterPort } from '../../lib/ovsdb/models/nb.js';
import { planRoutes, type LocalPrefix, type RemoteRoute } from './routes.js';
import type { IcContext, IcState } from './context.js';

/** Chassis name of a node: SB Chassis whose hostname or name is the node; the node name until it registers. */
export function chassisOf(c: IcContext, node: string): { name: string; registered: boolean; interconn: boolean } {
  const ch = c.sb.cache.find('Chassis', (c) => c.hostname === node) ?? c.sb.cache.lookup('Chassis', 'name', node);
  return ch ? { name: ch.name, registered: true, interconn: ch.other_config[SB_CHASSIS_INTERCONN_KEY] === 'true' } : { name: node, registered: false, interconn: false };
}

function waiting(c: IcContext, config: IcConfig, why: string): void {
  c.setStatus({ ...c.st, state: 'waiting', az: config.azName, message: why });
}

export async function applyInterconnect(c: IcContext, config: IcConfig, cm: V1ConfigMap, uid: string, sticky: string[]): Promise<void> {
  const az = config.azName;
  const tsName = config.tsName;
  const remotes = icRemotes(config);
  await c.ovnIc?.ensure({ nb: c.deps.nbRemotes, sb: c.deps.sbRemotes, icNb: remotes.nb, icSb: remotes.sb });
  // Node labels cost API calls: sync them when the gateway set changes and then at most every 30 s.
  const labelKey = config.gwNodes.join(',');
  if (c.labelsSynced?.key !== labelKey || Date.now() - c.labelsSynced.at > 30_000) {
    c.labelsSynced = { key: labelKey, at: Date.now(), missing: await c.kube.syncGatewayLabels(config.gwNodes) };
  }
  const missing = c.labelsSynced.missing;
  if (missing.length) await c.reportOnce(cm, 'Warning', 'OvnIcGatewayNodeMissing', `gw-nodes: node(s) ${missing.join(', ')} do not exist; they become gateways once they join`);

  const conn = c.icConn(config);
  if (!conn.icnb || !conn.icsb) {
    return waiting(c, config, `waiting for the IC databases ${remotes.nb.join(',')} / ${remotes.sb.join(',')}${conn.error ? `: ${conn.error}` : ''}`);
  }
  const icnb = conn.icnb;
  const icsb = conn.icsb;
  if (!icnb.cache.lookup('Transit_Switch', 'name', tsName)) {
    try {
      await icnb.transact([icnb.op.insert('Transit_Switch', { name: tsName })]);
      c.log.info('created transit switch in IC-NB', { name: tsName });
    } catch (err) {
      // Another AZ may have created it at the same moment (name is a unique index); the monitor will show it.
      c.log.debug(`Transit_Switch insert: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const router = c.nb.cache.lookup('Logical_Router', 'name', CLUSTER_ROUTER);
  if (!router) return waiting(c, config, `waiting for ${CLUSTER_ROUTER} in NB`);
  const ts = c.nb.cache.find('Logical_Switch', (s) => s.name === tsName && s.other_config['interconn-ts'] === tsName);
  if (!ts) return waiting(c, config, `waiting for ovn-ic to create transit switch ${tsName} in NB (ovn-ic log: ${c.ovnIc?.logFile ?? 'external'})`);

  // This AZ's row and the other AZs' ts ports.
  const azRow = icsb.cache.lookup('Availability_Zone', 'name', az);
  const azName = (u: string): string => icsb.cache.get('Availability_Zone', u)?.name ?? '?';
  const others = icsb.cache.filter('Port_Binding', (p) => p.transit_switch === tsName && (!azRow || p.availability_zone !== azRow._uuid));
  const taken = new Map<string, string>();
  for (const p of others) for (const ip of ipsOfPortAddress(p.address)) taken.set(ip, azName(p.availability_zone));

  const lrp = c.nb.cache.lookup('Logical_Router_Port', 'name', tsRouterPort(az, tsName));
  let addr: TsPortAddress | undefined;
  const cur = lrp?.networks[0];
  if (lrp && cur) {
    const ip = cur.split('/')[0];
    const holder = taken.get(ip);
    if (!holder || !yieldsTo(az, holder)) addr = { ip, cidr: cur, mac: lrp.mac };
    else c.log.warn('ts port address collides with another AZ; re-deriving', { ip, otherAz: holder });
  }
  addr ??= deriveTsPortAddress(az, taken.keys(), tsName);

  const gateways = gatewayPriorities(config.gwNodes.map((n) => chassisOf(c, n).name));
  const portOps = ensureTsPortOps(c.nb, { az, router, ts, addr, gateways });
  if (portOps.length) {
    await c.nb.transact(portOps);
    c.log.info('ts router port in place', { port: tsRouterPort(az, tsName), address: addr.cidr, mac: addr.mac, gateways });
  }

  // Routes: plan against what other AZs advertise before any learning is switched on.
  let denylist: string[] = [];
  let overlaps: string[] = sticky;
  if (config.autoRoute) {
    const local: LocalPrefix[] = routerPortNetworks(c.nb, router, tsRouterPort(az, tsName)).map((n) => ({ prefix: n.prefix, source: `router port ${n.port.name}` }));
    for (const u of router.static_routes) {
      const r = c.nb.cache.get('Logical_Router_Static_Route', u);
      if (r && !(LEARNED_ROUTE_KEY in r.external_ids) && r.policy !== 'src-ip') local.push({ prefix: r.ip_prefix, source: `static route via ${r.nexthop}` });
    }
    const remote: RemoteRoute[] = icsb.cache.filter('Route', (r) => r.transit_switch === tsName && (!azRow || r.availability_zone !== azRow._uuid))
      .map((r) => ({ az: azName(r.availability_zone), prefix: r.ip_prefix, nexthop: r.nexthop }));
    const disabled = c.kube.disabledSubnetCidrs();
    const plan = planRoutes({ local, remote, disabledSubnets: disabled.map((d) => d.cidr), sticky });
    for (const o of plan.overlaps) {
      await c.reportOnce(cm, 'Warning', 'OvnIcRouteOverlap', o.message, `overlap:${uid}:${o.prefix}:${o.with}`);
      overlaps = [...new Set([...overlaps, o.prefix, o.with])];
    }
    denylist = plan.denylist;
  }
  const g = c.nb.cache.list('NB_Global')[0];
  const wantOpts = config.autoRoute
    ? { 'ic-route-adv': 'true', 'ic-route-learn': 'true', ...(denylist.length ? Object.fromEntries(ROUTE_FILTER_KEYS.map((k) => [k, denylist.join(',')])) : {}) }
    : { 'ic-route-adv': 'false', 'ic-route-learn': 'false' };
  const haveOpts = Object.fromEntries(Object.entries(g?.options ?? {}).filter(([k]) => k.startsWith('ic-route-')));
  const wantExt = { [APPLIED_KEY]: fingerprint(config), [APPLIED_UID_KEY]: uid, ...(overlaps.length ? { [OVERLAPS_KEY]: overlaps.sort().join(',') } : {}) };
  const extOk = Object.entries(wantExt).every(([k, v]) => g?.external_ids[k] === v) && (overlaps.length > 0 || !(OVERLAPS_KEY in (g?.external_ids ?? {})));
  if (g?.name !== az || JSON.stringify(haveOpts, Object.keys(haveOpts).sort()) !== JSON.stringify(wantOpts, Object.keys(wantOpts).sort()) || !extOk) {
    await c.nb.transact(nbGlobalOps(c.nb, {
      name: az, external: wantExt, dropExternal: [OVERLAPS_KEY],
      routes: { adv: config.autoRoute, learn: config.autoRoute, denylist },
    }));
    c.log.info('NB_Global interconnection options set', { az, autoRoute: config.autoRoute, denylist });
  }

  // Status: what a user needs for manual routes, and whether the gateways made it into IC-SB.
  const remotePorts = others.map((p) => ({ az: azName(p.availability_zone), port: p.logical_port, ip: ipsOfPortAddress(p.address)[0] ?? '', address: p.address }))
    .sort((a, b) => a.az.localeCompare(b.az));
  const notGw = config.gwNodes.filter((n) => !chassisOf(c, n).interconn);
  const ourPb = azRow ? icsb.cache.find('Port_Binding', (p) => p.logical_port === tsSwitchPort(az, tsName) && p.availability_zone === azRow._uuid) : undefined;
  let state: IcState = 'connected';
  let message = `AZ ${az} attached to transit switch ${tsName} at ${addr.cidr}`;
  if (notGw.length === config.gwNodes.length) {
    state = 'waiting';
    message = `waiting for a gateway chassis: ${notGw.join(', ')} not marked ${SB_CHASSIS_INTERCONN_KEY}=true in SB yet (the node agent sets ovn-is-interconn from the ${'tessera.io/ic-gw'} label)`;
  } else if (!ourPb) {
    state = 'waiting';
    message = `waiting for ovn-ic to publish ${tsSwitchPort(az, tsName)} in IC-SB`;
  }
  c.setStatus({ ...c.st, state, message, az, ts: tsName, localPort: addr, remotePorts, denylist, overlaps });
}

/** Networks of the router's ports other than `except`: the "connected" routes ovn-ic advertises. */
export function routerPortNetworks(nb: IcContext['nb'], router: LogicalRouter, except: string): { prefix: string; port: LogicalRouterPort }[] {
  const out: { prefix: string; port: LogicalRouterPort }[] = [];
  for (const u of router.ports) {
    const p = nb.cache.get('Logical_Router_Port', u);
    if (!p || p.name === except) continue;
    for (const n of p.networks) out.push({ prefix: n, port: p });
  }
  return out;
}
