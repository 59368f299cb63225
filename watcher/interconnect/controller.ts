// The interconnect controller: turns kube-system/ovn-ic-config into an OVN-IC attachment of ovn_cluster_router
// (NB_Global name/options, the cluster's ovn-ic daemon, gateway labels, the ts router port with HA gateway chassis,
// the route denylist) and takes it away again when the ConfigMap goes. One serialized reconcile loop, kicked by
// ConfigMap/Subnet/NB/SB/IC-SB changes and a periodic resync; it waits on conditions, never on fixed sleeps.
import { join } from 'node:path';
import type { KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import type { Logger } from '../../lib/log.js';
import { CLUSTER_ROUTER } from '../../lib/ovn/names.js';
import { OvsdbClient, type ClientOptions, type Op, type TlsOptions } from '../../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../../lib/ovsdb/models/nb.js';
import { SB_MODEL, type SBTables } from '../../lib/ovsdb/models/sb.js';
import { ICNB_MODEL, type ICNBTables } from '../../lib/ovsdb/models/icnb.js';
import { ICSB_MODEL, type ICSBTables } from '../../lib/ovsdb/models/icsb.js';
import { OvnIcDaemon } from '../../lib/ovnic/daemon.js';
import { ovnTlsArgs } from '../../lib/ovsdb-tls-flags.js';
import { SB_CHASSIS_INTERCONN_KEY } from '../../lib/ovnic/gateway-flag.js';
import { IC_CONFIGMAP_NAME, IC_CONFIGMAP_NAMESPACE, describeChange, fingerprint, fromFingerprint, icRemotes, parseIcConfig, type IcConfig } from './config.js';
import { TS_NAME, deriveTsPortAddress, ipsOfPortAddress, tsRouterPort, tsSwitchPort, yieldsTo, type TsPortAddress } from './address.js';
import { APPLIED_KEY, APPLIED_UID_KEY, LEARNED_ROUTE_KEY, OVERLAPS_KEY, ROUTE_FILTER_KEYS, clearAzNameOps, ensureTsPortOps, forgetNbGlobalOps, gatewayPriorities, nbGlobalOps, removeLearnedRoutesOps, removeTsPortOps, routerPortNetworks, routesOffOps } from './nb-ops.js';
import { planRoutes, type LocalPrefix, type RemoteRoute } from './routes.js';
import { IcKube, IC_STATUS_CONFIGMAP_NAME } from './kube.js';

export interface InterconnectDeps {
  kube: KubeConfig;
  /** This cluster's OVN NB and SB remotes (every Raft member); also handed to ovn-ic. */
  nbRemotes: string[];
  sbRemotes: string[];
  /** Directory for the managed ovn-ic (pidfile, ctl, log): `<runDir>/ovn-ic/`. */
  runDir: string;
  logger: Logger;
  /** "managed" (default): the watcher runs ovn-ic; "external": something else runs it, pointed at the same DBs. */
  ovnIc?: 'managed' | 'external';
  ovnIcBinary?: string;
  tls?: TlsOptions;
  /** Periodic full reconcile (default 15000 ms). */
  resyncMs?: number;
}

export type IcState = 'disabled' | 'invalid' | 'waiting' | 'connected';

export interface IcStatus {
  state: IcState;
  message: string;
  az?: string;
  localPort?: TsPortAddress;
  /** Other AZs' ts ports: AZ name, port name, IP. */
  remotePorts: { az: string; port: string; ip: string; address: string }[];
  denylist: string[];
  overlaps: string[];
  refused?: string;
}

export interface InterconnectController {
  stop(): Promise<void>;
  status(): IcStatus;
  /** Runs one reconcile now (tests and debugging). */
  reconcileNow(): Promise<void>;
  /** The managed ovn-ic, if any (tests read its pid/log). */
  readonly ovnIc?: OvnIcDaemon;
}

type Nb = OvsdbClient<NBTables>;
type Sb = OvsdbClient<SBTables>;
type IcNb = OvsdbClient<ICNBTables>;
type IcSb = OvsdbClient<ICSBTables>;

interface IcConn {
  key: string;
  icnb?: IcNb;
  icsb?: IcSb;
  error?: string;
  closed: boolean;
}

const NB_TABLES = ['NB_Global', 'Logical_Router', 'Logical_Router_Port', 'Logical_Switch', 'Logical_Switch_Port', 'Gateway_Chassis', 'Logical_Router_Static_Route'] as const;

export async function startInterconnectController(deps: InterconnectDeps): Promise<InterconnectController> {
  const c = new Controller(deps);
  await c.start();
  return c;
}

class Controller implements InterconnectController {
  private readonly log: Logger;
  private nb!: Nb;
  private sb!: Sb;
  private kube!: IcKube;
  readonly ovnIc?: OvnIcDaemon;
  private ic?: IcConn;
  private running = false;
  private dirty = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private resync?: NodeJS.Timeout;
  private retryMs = 500;
  private st: IcStatus = { state: 'disabled', message: 'no ovn-ic-config ConfigMap', remotePorts: [], denylist: [], overlaps: [] };
  /** Reports already made, so a steady state does not flood Events. */
  private readonly reported = new Set<string>();
  private idle: Promise<void> = Promise.resolve();
  private labelsSynced?: { key: string; at: number; missing: string[] };

  constructor(private readonly deps: InterconnectDeps) {
    this.log = deps.logger.child({ controller: 'interconnect' });
    if ((deps.ovnIc ?? 'managed') === 'managed') {
      this.ovnIc = new OvnIcDaemon({ dir: join(deps.runDir, 'ovn-ic'), binary: deps.ovnIcBinary, logger: this.log, extraArgs: ovnTlsArgs(deps.tls) });
    }
  }

  private dbOpts(remotes: string[]): ClientOptions {
    const l = this.log;
    return {
      remotes, tls: this.deps.tls, reconnect: { minMs: 200, maxMs: 4000 },
      logger: { debug: (m) => l.debug(m), info: (m) => l.info(m), warn: (m) => l.warn(m), error: (m) => l.error(m) },
    };
  }

  async start(): Promise<void> {
    this.nb = await OvsdbClient.connect(NB_MODEL, this.dbOpts(this.deps.nbRemotes));
    await this.nb.monitor([...NB_TABLES]);
    this.sb = await OvsdbClient.connect(SB_MODEL, { ...this.dbOpts(this.deps.sbRemotes), leaderOnly: false });
    await this.sb.monitor({ Chassis: { columns: ['name', 'hostname', 'other_config'] } });
    this.nb.on('change', (ev) => {
      // ovn-ic creating `ts`, remote ports, learned routes, router ports of new node switches: all matter.
      if (ev.table !== 'Logical_Switch_Port' || ev.row.type === 'remote' || ev.row.type === 'router') this.kick();
    });
    this.sb.on('change', () => this.kick());
    this.kube = new IcKube(this.deps.kube, this.log, () => this.kick());
    await this.kube.start();
    this.resync = setInterval(() => this.kick(), this.deps.resyncMs ?? 15_000);
    this.kick();
  }

  status(): IcStatus {
    return this.st;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resync) clearInterval(this.resync);
    if (this.timer) clearTimeout(this.timer);
    await this.idle;
    await this.kube.stop();
    // Stopping the watcher leaves the interconnection in place (a restarted watcher adopts it); only ovn-ic,
    // our child, goes with us.
    await this.ovnIc?.stop();
    this.closeIc();
    this.nb.close();
    this.sb.close();
  }

  /** Coalesces triggers: at most one reconcile runs, and one more follows if anything changed meanwhile. */
  private kick(delayMs = 20): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.loop();
    }, delayMs);
  }

  private async loop(): Promise<void> {
    if (this.running) return;
    this.running = true;
    let done!: () => void;
    this.idle = new Promise((r) => (done = r));
    try {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        try {
          await this.reconcile();
          this.retryMs = 500;
        } catch (err) {
          this.log.warn('interconnect reconcile failed; retrying', { error: err instanceof Error ? err.message : String(err), inMs: this.retryMs });
          this.setStatus({ ...this.st, message: `retrying after error: ${err instanceof Error ? err.message : String(err)}` });
          const wait = this.retryMs;
          this.retryMs = Math.min(this.retryMs * 2, 10_000);
          this.running = false;
          done();
          this.kick(wait);
          return;
        }
      }
    } finally {
      if (this.running) {
        this.running = false;
        done();
      }
    }
  }

  async reconcileNow(): Promise<void> {
    await this.idle;
    this.dirty = true;
    await this.loop();
    await this.idle;
  }

  // ---------------------------------------------------------------- reconcile

  private appliedFromNb(): { config?: IcConfig; uid?: string; sticky: string[] } {
    const g = this.nb.cache.list('NB_Global')[0];
    const ext = g?.external_ids ?? {};
    return { config: fromFingerprint(ext[APPLIED_KEY]), uid: ext[APPLIED_UID_KEY], sticky: (ext[OVERLAPS_KEY] ?? '').split(',').filter((s) => s !== '') };
  }

  private async reconcile(): Promise<void> {
    if (!this.kube.synced) {
      // An unknown ConfigMap must never read as a deleted one (that would tear the interconnection down).
      this.setStatus({ ...this.st, message: 'waiting for the first list of ConfigMaps and Subnets' });
      setTimeout(() => this.kick(), 1000).unref();
      return;
    }
    const cm = this.kube.icConfigMap();
    const applied = this.appliedFromNb();
    const parsed = cm ? parseIcConfig(cm.data) : undefined;
    const uid = cm?.metadata?.uid ?? '';

    if (!cm || (parsed?.ok && !parsed.config.enabled && !applied.config)) {
      if (applied.config) await this.teardown(applied.config);
      this.setStatus({ state: 'disabled', message: cm ? 'enable-ic is "false"' : 'no ovn-ic-config ConfigMap', remotePorts: [], denylist: [], overlaps: [] });
      return;
    }
    for (const w of parsed?.warnings ?? []) await this.reportOnce(cm, 'Warning', 'OvnIcConfigWarning', w);

    // A different ConfigMap object (deleted and re-created while we were not looking): the old one is gone.
    if (applied.config && applied.uid && uid && applied.uid !== uid) {
      this.log.info('ovn-ic-config was re-created; removing the previous interconnection first', { previous: applied.uid, now: uid });
      await this.teardown(applied.config);
      // Apply the new one in the next pass, from a cache that has seen the teardown's updates.
      this.kick();
      return;
    }

    if (applied.config) {
      const requested = parsed!.ok ? parsed!.config : undefined;
      if (!requested || !requested.enabled || fingerprint(requested) !== fingerprint(applied.config)) {
        const what = requested ? describeChange(applied.config, requested) : `invalid: ${(parsed as { errors: string[] }).errors.join('; ')}`;
        const msg = `ovn-ic-config was changed (${what}) but a running interconnection is never modified in place. ` +
          `Still running with the applied config. To change it: kubectl -n ${IC_CONFIGMAP_NAMESPACE} delete cm ${IC_CONFIGMAP_NAME}; ` +
          `wait until kubectl -n ${IC_CONFIGMAP_NAMESPACE} get cm ${IC_STATUS_CONFIGMAP_NAME} -o jsonpath='{.data.state}' prints "disabled"; then apply the changed ConfigMap.`;
        await this.reportOnce(cm, 'Warning', 'OvnIcConfigChangeRefused', msg, `refused:${cm.metadata?.resourceVersion}`);
        this.st.refused = msg;
      } else {
        this.st.refused = undefined;
      }
      await this.apply(applied.config, cm, uid, applied.sticky);
      return;
    }

    if (!parsed!.ok) {
      const msg = `ovn-ic-config is invalid, nothing applied: ${parsed!.errors.join('; ')}`;
      await this.reportOnce(cm, 'Warning', 'OvnIcConfigInvalid', msg, `invalid:${cm.metadata?.resourceVersion}`);
      this.setStatus({ state: 'invalid', message: msg, remotePorts: [], denylist: [], overlaps: [] });
      return;
    }
    if (!parsed!.config.enabled) return; // handled above
    const config = parsed!.config;
    this.log.info('applying ovn-ic-config', { az: config.azName, icDb: config.icDbHosts, gwNodes: config.gwNodes, autoRoute: config.autoRoute });
    await this.nb.transact(nbGlobalOps(this.nb, {
      name: config.azName,
      external: { [APPLIED_KEY]: fingerprint(config), [APPLIED_UID_KEY]: uid },
      dropExternal: [OVERLAPS_KEY],
    }));
    this.st.refused = undefined;
    await this.reportOnce(cm, 'Normal', 'OvnIcConfigApplied', `interconnection of AZ ${config.azName} through IC DB ${config.icDbHosts.join(',')} started`, `applied:${uid}`);
    await this.apply(config, cm, uid, []);
  }

  private async reportOnce(cm: V1ConfigMap, type: 'Normal' | 'Warning', reason: string, message: string, key = `${reason}:${message}`): Promise<void> {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    if (type === 'Warning') this.log.warn(message, { reason });
    else this.log.info(message, { reason });
    await this.kube.event(cm, type, reason, message);
  }

  private icConn(config: IcConfig): IcConn {
    const r = icRemotes(config);
    const key = JSON.stringify(r);
    if (this.ic && this.ic.key === key) return this.ic;
    this.closeIc();
    const conn: IcConn = { key, closed: false };
    this.ic = conn;
    // Connect in the background: an unreachable IC DB must not block the loop (status says "waiting").
    void (async () => {
      try {
        const icnb = await OvsdbClient.connect(ICNB_MODEL, { ...this.dbOpts(r.nb), initialTimeoutMs: 3_600_000 });
        if (conn.closed) return icnb.close();
        await icnb.monitor(['Transit_Switch']);
        conn.icnb = icnb;
        const icsb = await OvsdbClient.connect(ICSB_MODEL, { ...this.dbOpts(r.sb), initialTimeoutMs: 3_600_000 });
        if (conn.closed) return icsb.close();
        await icsb.monitor(['Availability_Zone', 'Port_Binding', 'Route', 'Gateway']);
        conn.icsb = icsb;
        icnb.on('change', () => this.kick());
        icsb.on('change', () => this.kick());
        this.kick();
      } catch (err) {
        conn.error = err instanceof Error ? err.message : String(err);
        this.kick(2000);
      }
    })();
    return conn;
  }

  private closeIc(): void {
    if (!this.ic) return;
    this.ic.closed = true;
    this.ic.icnb?.close();
    this.ic.icsb?.close();
    this.ic = undefined;
  }

  /** Chassis name of a node: SB Chassis whose hostname or name is the node; the node name until it registers. */
  private chassisOf(node: string): { name: string; registered: boolean; interconn: boolean } {
    const ch = this.sb.cache.find('Chassis', (c) => c.hostname === node) ?? this.sb.cache.lookup('Chassis', 'name', node);
    return ch ? { name: ch.name, registered: true, interconn: ch.other_config[SB_CHASSIS_INTERCONN_KEY] === 'true' } : { name: node, registered: false, interconn: false };
  }

  private waiting(config: IcConfig, why: string): void {
    this.setStatus({ ...this.st, state: 'waiting', az: config.azName, message: why });
  }

  private async apply(config: IcConfig, cm: V1ConfigMap, uid: string, sticky: string[]): Promise<void> {
    const az = config.azName;
    const remotes = icRemotes(config);
    await this.ovnIc?.ensure({ nb: this.deps.nbRemotes, sb: this.deps.sbRemotes, icNb: remotes.nb, icSb: remotes.sb });
    // Node labels cost API calls: sync them when the gateway set changes and then at most every 30 s.
    const labelKey = config.gwNodes.join(',');
    if (this.labelsSynced?.key !== labelKey || Date.now() - this.labelsSynced.at > 30_000) {
      this.labelsSynced = { key: labelKey, at: Date.now(), missing: await this.kube.syncGatewayLabels(config.gwNodes) };
    }
    const missing = this.labelsSynced.missing;
    if (missing.length) await this.reportOnce(cm, 'Warning', 'OvnIcGatewayNodeMissing', `gw-nodes: node(s) ${missing.join(', ')} do not exist; they become gateways once they join`);

    const conn = this.icConn(config);
    if (!conn.icnb || !conn.icsb) {
      return this.waiting(config, `waiting for the IC databases ${remotes.nb.join(',')} / ${remotes.sb.join(',')}${conn.error ? `: ${conn.error}` : ''}`);
    }
    const icnb = conn.icnb;
    const icsb = conn.icsb;
    if (!icnb.cache.lookup('Transit_Switch', 'name', TS_NAME)) {
      try {
        await icnb.transact([icnb.op.insert('Transit_Switch', { name: TS_NAME })]);
        this.log.info('created transit switch in IC-NB', { name: TS_NAME });
      } catch (err) {
        // Another AZ may have created it at the same moment (name is a unique index); the monitor will show it.
        this.log.debug(`Transit_Switch insert: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const router = this.nb.cache.lookup('Logical_Router', 'name', CLUSTER_ROUTER);
    if (!router) return this.waiting(config, `waiting for ${CLUSTER_ROUTER} in NB`);
    const ts = this.nb.cache.find('Logical_Switch', (s) => s.name === TS_NAME && s.other_config['interconn-ts'] === TS_NAME);
    if (!ts) return this.waiting(config, `waiting for ovn-ic to create transit switch ${TS_NAME} in NB (ovn-ic log: ${this.ovnIc?.logFile ?? 'external'})`);

    // This AZ's row and the other AZs' ts ports.
    const azRow = icsb.cache.lookup('Availability_Zone', 'name', az);
    const azName = (u: string): string => icsb.cache.get('Availability_Zone', u)?.name ?? '?';
    const others = icsb.cache.filter('Port_Binding', (p) => p.transit_switch === TS_NAME && (!azRow || p.availability_zone !== azRow._uuid));
    const taken = new Map<string, string>();
    for (const p of others) for (const ip of ipsOfPortAddress(p.address)) taken.set(ip, azName(p.availability_zone));

    const lrp = this.nb.cache.lookup('Logical_Router_Port', 'name', tsRouterPort(az));
    let addr: TsPortAddress | undefined;
    const cur = lrp?.networks[0];
    if (lrp && cur) {
      const ip = cur.split('/')[0];
      const holder = taken.get(ip);
      if (!holder || !yieldsTo(az, holder)) addr = { ip, cidr: cur, mac: lrp.mac };
      else this.log.warn('ts port address collides with another AZ; re-deriving', { ip, otherAz: holder });
    }
    addr ??= deriveTsPortAddress(az, taken.keys());

    const gateways = gatewayPriorities(config.gwNodes.map((n) => this.chassisOf(n).name));
    const portOps = ensureTsPortOps(this.nb, { az, router, ts, addr, gateways });
    if (portOps.length) {
      await this.nb.transact(portOps);
      this.log.info('ts router port in place', { port: tsRouterPort(az), address: addr.cidr, mac: addr.mac, gateways });
    }

    // Routes: plan against what other AZs advertise before any learning is switched on.
    let denylist: string[] = [];
    let overlaps: string[] = sticky;
    if (config.autoRoute) {
      const local: LocalPrefix[] = routerPortNetworks(this.nb, router, tsRouterPort(az)).map((n) => ({ prefix: n.prefix, source: `router port ${n.port.name}` }));
      for (const u of router.static_routes) {
        const r = this.nb.cache.get('Logical_Router_Static_Route', u);
        if (r && !(LEARNED_ROUTE_KEY in r.external_ids) && r.policy !== 'src-ip') local.push({ prefix: r.ip_prefix, source: `static route via ${r.nexthop}` });
      }
      const remote: RemoteRoute[] = icsb.cache.filter('Route', (r) => r.transit_switch === TS_NAME && (!azRow || r.availability_zone !== azRow._uuid))
        .map((r) => ({ az: azName(r.availability_zone), prefix: r.ip_prefix, nexthop: r.nexthop }));
      const disabled = this.kube.disabledSubnetCidrs();
      const plan = planRoutes({ local, remote, disabledSubnets: disabled.map((d) => d.cidr), sticky });
      for (const o of plan.overlaps) {
        await this.reportOnce(cm, 'Warning', 'OvnIcRouteOverlap', o.message, `overlap:${uid}:${o.prefix}:${o.with}`);
        overlaps = [...new Set([...overlaps, o.prefix, o.with])];
      }
      denylist = plan.denylist;
    }
    const g = this.nb.cache.list('NB_Global')[0];
    const wantOpts = config.autoRoute
      ? { 'ic-route-adv': 'true', 'ic-route-learn': 'true', ...(denylist.length ? Object.fromEntries(ROUTE_FILTER_KEYS.map((k) => [k, denylist.join(',')])) : {}) }
      : { 'ic-route-adv': 'false', 'ic-route-learn': 'false' };
    const haveOpts = Object.fromEntries(Object.entries(g?.options ?? {}).filter(([k]) => k.startsWith('ic-route-')));
    const wantExt = { [APPLIED_KEY]: fingerprint(config), [APPLIED_UID_KEY]: uid, ...(overlaps.length ? { [OVERLAPS_KEY]: overlaps.sort().join(',') } : {}) };
    const extOk = Object.entries(wantExt).every(([k, v]) => g?.external_ids[k] === v) && (overlaps.length > 0 || !(OVERLAPS_KEY in (g?.external_ids ?? {})));
    if (g?.name !== az || JSON.stringify(haveOpts, Object.keys(haveOpts).sort()) !== JSON.stringify(wantOpts, Object.keys(wantOpts).sort()) || !extOk) {
      await this.nb.transact(nbGlobalOps(this.nb, {
        name: az, external: wantExt, dropExternal: [OVERLAPS_KEY],
        routes: { adv: config.autoRoute, learn: config.autoRoute, denylist },
      }));
      this.log.info('NB_Global interconnection options set', { az, autoRoute: config.autoRoute, denylist });
    }

    // Status: what a user needs for manual routes, and whether the gateways made it into IC-SB.
    const remotePorts = others.map((p) => ({ az: azName(p.availability_zone), port: p.logical_port, ip: ipsOfPortAddress(p.address)[0] ?? '', address: p.address }))
      .sort((a, b) => a.az.localeCompare(b.az));
    const notGw = config.gwNodes.filter((n) => !this.chassisOf(n).interconn);
    const ourPb = azRow ? icsb.cache.find('Port_Binding', (p) => p.logical_port === tsSwitchPort(az) && p.availability_zone === azRow._uuid) : undefined;
    let state: IcState = 'connected';
    let message = `AZ ${az} attached to transit switch ${TS_NAME} at ${addr.cidr}`;
    if (notGw.length === config.gwNodes.length) {
      state = 'waiting';
      message = `waiting for a gateway chassis: ${notGw.join(', ')} not marked ${SB_CHASSIS_INTERCONN_KEY}=true in SB yet (the node agent sets ovn-is-interconn from the ${'tessera.io/ic-gw'} label)`;
    } else if (!ourPb) {
      state = 'waiting';
      message = `waiting for ovn-ic to publish ${tsSwitchPort(az)} in IC-SB`;
    }
    this.setStatus({ ...this.st, state, message, az, localPort: addr, remotePorts, denylist, overlaps });
  }

  /** Polls (bounded) until `done`; used only while our own ovn-ic withdraws what it published. */
  private async settle(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
    const t0 = Date.now();
    while (!done() && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 50));
    this.log.debug(`teardown: ${what} ${done() ? 'done' : 'timed out'} after ${Date.now() - t0} ms`);
  }

  private async teardown(config: IcConfig): Promise<void> {
    const az = config.azName;
    this.log.info('removing interconnection', { az });
    const conn = this.ic;
    const icsb = conn?.icsb;
    const azRow = icsb?.cache.lookup('Availability_Zone', 'name', az);
    const ours = (t: 'Route' | 'Port_Binding'): boolean => !!(icsb && azRow && icsb.cache.find(t, (r) => r.availability_zone === azRow._uuid));
    const live = !!(icsb && azRow && this.ovnIc?.running);
    // 1. Advertising and learning off while the ts port still exists: ovn-ic withdraws our routes from IC-SB and
    //    its learned routes from NB (it stops looking at a router once the router leaves ts).
    await this.nb.transact(routesOffOps(this.nb));
    if (live) await this.settle('route withdrawal', () => !ours('Route'), 3000);
    // 2. The ts ports, anything still learned, our options and records.
    const router = this.nb.cache.lookup('Logical_Router', 'name', CLUSTER_ROUTER);
    await this.nb.transact([
      ...removeTsPortOps(this.nb, az),
      ...removeLearnedRoutesOps(this.nb, router),
      ...forgetNbGlobalOps(this.nb),
    ]);
    await this.kube.syncGatewayLabels([]);
    this.labelsSynced = undefined;
    if (live) await this.settle('port binding withdrawal', () => !ours('Port_Binding'), 3000);
    await this.ovnIc?.stop();
    if (conn?.icsb && azRow) {
      const icsb = conn.icsb;
      const u = azRow._uuid;
      try {
        await icsb.transact([
          icsb.op.delete('Route', [['availability_zone', '==', u]]),
          icsb.op.delete('Port_Binding', [['availability_zone', '==', u]]),
          icsb.op.delete('Gateway', [['availability_zone', '==', u]]),
          icsb.op.delete('Availability_Zone', [['_uuid', '==', azRow._uuid]]),
        ]);
      } catch (err) {
        this.log.warn('could not remove this AZ from IC-SB; peers keep a stale entry until an IC-SB admin removes it', { az, error: err instanceof Error ? err.message : String(err) });
      }
    }
    this.closeIc();
    // The AZ name goes last: with ovn-ic stopped nothing re-registers it.
    await this.nb.transact(clearAzNameOps(this.nb));
    for (const k of [...this.reported]) if (!k.startsWith('refused:') && !k.startsWith('invalid:')) this.reported.delete(k);
    this.log.info('interconnection removed', { az });
  }

  private setStatus(s: IcStatus): void {
    this.st = s;
    const data: Record<string, string> = {
      state: s.state,
      message: s.message,
      'az-name': s.az ?? '',
      'local-ts-port': s.localPort ? `${tsSwitchPort(s.az ?? '')} ${s.localPort.mac} ${s.localPort.cidr}` : '',
      'remote-ts-ports': s.remotePorts.map((p) => `${p.az} ${p.port} ${p.address}`).join('\n'),
      'route-denylist': s.denylist.join(','),
      overlaps: s.overlaps.join(','),
    };
    for (const p of s.remotePorts) data[`remote.${p.az}`] = p.ip;
    if (s.refused) data.refused = s.refused;
    this.kube.writeStatus(data).catch((err: unknown) => this.log.warn('could not write ovn-ic-status', { error: err instanceof Error ? err.message : String(err) }));
  }
}
