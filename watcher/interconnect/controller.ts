// The interconnect controller: turns kube-system/ovn-ic-config into an OVN-IC attachment of ovn_cluster_router
// (NB_Global name/options, the cluster's ovn-ic daemon, gateway labels, the ts router port with HA gateway chassis,
// the route denylist) and takes it away again when the ConfigMap goes (apply.ts, teardown.ts). One reconcile at a
// time on a one-key lib/workqueue, added by ConfigMap/Subnet/NB/SB/IC-SB changes and a periodic resync; failures
// retry with the queue's backoff. Another writer's change to the rows it owns (the ts ports, their gateway
// chassis) goes through drift repair (lib/drift). It waits on conditions, never on fixed sleeps.
import { join } from 'node:path';
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { Logger } from '../../lib/log.js';
import { APPLIED_KEY, APPLIED_UID_KEY, IC_OWNER, OVERLAPS_KEY, OWNER_KEY, tsSwitchPort } from '../../lib/ovn/names.js';
import { OvsdbClient, type ClientOptions } from '../../lib/ovsdb/index.js';
import { NB_MODEL } from '../../lib/ovsdb/models/nb.js';
import { SB_MODEL } from '../../lib/ovsdb/models/sb.js';
import { ICNB_MODEL } from '../../lib/ovsdb/models/icnb.js';
import { ICSB_MODEL } from '../../lib/ovsdb/models/icsb.js';
import { OvnIcDaemon } from '../../lib/ovnic/daemon.js';
import { ovnTlsArgs } from '../../lib/ovsdb-tls-flags.js';
import { WorkQueue } from '../../lib/workqueue.js';
import { OwnWrites } from '../../lib/drift/own-writes.js';
import { DriftRepair } from '../../lib/drift/repair.js';
import { IC_CONFIGMAP_NAME, IC_CONFIGMAP_NAMESPACE, describeChange, fingerprint, fromFingerprint, icRemotes, parseIcConfig, type IcConfig } from './config.js';
import { nbGlobalOps } from '../../lib/ovn/interconnect.js';
import { IcKube, IC_STATUS_CONFIGMAP_NAME } from './kube.js';
import { applyInterconnect } from './apply.js';
import { teardownInterconnect } from './teardown.js';
import type { IcConn, IcContext, IcStatus, InterconnectController, InterconnectDeps, Nb, Sb } from './context.js';

export type { IcState, IcStatus, InterconnectController, InterconnectDeps } from './context.js';

const NB_TABLES = ['NB_Global', 'Logical_Router', 'Logical_Router_Port', 'Logical_Switch', 'Logical_Switch_Port', 'Gateway_Chassis', 'Logical_Router_Static_Route'] as const;
const KEY = 'interconnect';
const icOwner = (ids: Record<string, string> | undefined): string | undefined => (ids?.[OWNER_KEY] === IC_OWNER ? `${KEY} cluster` : undefined);

export async function startInterconnectController(deps: InterconnectDeps): Promise<InterconnectController> {
  const c = new Controller(deps);
  await c.start();
  return c;
}

class Controller implements InterconnectController, IcContext {
  readonly log: Logger;
  nb!: Nb;
  sb!: Sb;
  kube!: IcKube;
  readonly ovnIc?: OvnIcDaemon;
  ic?: IcConn;
  private stopped = false;
  private resync?: NodeJS.Timeout;
  st: IcStatus = { state: 'disabled', message: 'no ovn-ic-config ConfigMap', remotePorts: [], denylist: [], overlaps: [] };
  readonly reported = new Set<string>();
  labelsSynced?: { key: string; at: number; missing: string[] };
  private readonly queue: WorkQueue;
  private drift?: DriftRepair<never>;

  constructor(readonly deps: InterconnectDeps) {
    this.log = deps.logger.child({ controller: 'interconnect' });
    if ((deps.ovnIc ?? 'managed') === 'managed') {
      this.ovnIc = new OvnIcDaemon({ dir: join(deps.runDir, 'ovn-ic'), binary: deps.ovnIcBinary, logger: this.log, extraArgs: ovnTlsArgs(deps.tls) });
    }
    this.queue = new WorkQueue(() => this.reconcileOnce(), { name: KEY, workers: 1, baseDelayMs: 500, maxDelayMs: 10_000 });
  }

  private dbOpts(remotes: string[]): ClientOptions {
    return { remotes, tls: this.deps.tls, reconnect: { minMs: 200, maxMs: 4000 }, logger: this.log };
  }

  async start(): Promise<void> {
    const raw = await OvsdbClient.connect(NB_MODEL, this.dbOpts(this.deps.nbRemotes));
    await raw.monitor([...NB_TABLES]);
    const own = new OwnWrites(icOwner, raw.cache);
    this.nb = own.wrap(raw);
    this.drift = new DriftRepair<never>({ ownerOf: icOwner, targets: { [KEY]: { sync: () => this.queue.addAndWait(KEY) } }, own, log: this.log });
    this.sb = await OvsdbClient.connect(SB_MODEL, { ...this.dbOpts(this.deps.sbRemotes), leaderOnly: false });
    await this.sb.monitor({ Chassis: { columns: ['name', 'hostname', 'other_config'] } });
    this.nb.on('change', (ev) => {
      const row = ev.row as { external_ids?: Record<string, string> };
      if (icOwner((ev.old as typeof row | undefined)?.external_ids) ?? icOwner(row.external_ids)) return this.drift!.observe(ev);
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
    this.drift?.stop();
    this.queue.shutdown();
    await this.queue.idle();
    await this.kube.stop();
    // Stopping the watcher leaves the interconnection in place (a restarted watcher adopts it); only ovn-ic,
    // our child, goes with us.
    await this.ovnIc?.stop();
    this.closeIc();
    this.nb.close();
    this.sb.close();
  }

  /** Coalesces triggers: one reconcile at a time, and one more after it if anything changed meanwhile. */
  kick(delayMs = 20): void {
    if (!this.stopped) this.queue.addAfter(KEY, delayMs);
  }

  async reconcileNow(): Promise<void> {
    await this.queue.addAndWait(KEY);
    await this.queue.idle();
  }

  private async reconcileOnce(): Promise<void> {
    try {
      await this.reconcile();
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.log.warn('interconnect reconcile failed; retrying', { error: msg });
      this.setStatus({ ...this.st, message: `retrying after error: ${msg}` });
      throw err;
    }
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
      if (applied.config) await teardownInterconnect(this, applied.config);
      this.setStatus({ state: 'disabled', message: cm ? 'enable-ic is "false"' : 'no ovn-ic-config ConfigMap', remotePorts: [], denylist: [], overlaps: [] });
      return;
    }
    for (const w of parsed?.warnings ?? []) await this.reportOnce(cm, 'Warning', 'OvnIcConfigWarning', w);

    // A different ConfigMap object (deleted and re-created while we were not looking): the old one is gone.
    if (applied.config && applied.uid && uid && applied.uid !== uid) {
      this.log.info('ovn-ic-config was re-created; removing the previous interconnection first', { previous: applied.uid, now: uid });
      await teardownInterconnect(this, applied.config);
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
      await applyInterconnect(this, applied.config, cm, uid, applied.sticky);
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
    await applyInterconnect(this, config, cm, uid, []);
  }

  async reportOnce(cm: V1ConfigMap, type: 'Normal' | 'Warning', reason: string, message: string, key = `${reason}:${message}`): Promise<void> {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    if (type === 'Warning') this.log.warn(message, { reason });
    else this.log.info(message, { reason });
    await this.kube.event(cm, type, reason, message);
  }

  icConn(config: IcConfig): IcConn {
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

  closeIc(): void {
    if (!this.ic) return;
    this.ic.closed = true;
    this.ic.icnb?.close();
    this.ic.icsb?.close();
    this.ic = undefined;
  }

  setStatus(s: IcStatus): void {
    this.st = s;
    const data: Record<string, string> = {
      state: s.state,
      message: s.message,
      'az-name': s.az ?? '',
      'local-ts-port': s.localPort ? `${tsSwitchPort(s.az ?? '', s.ts)} ${s.localPort.mac} ${s.localPort.cidr}` : '',
      'remote-ts-ports': s.remotePorts.map((p) => `${p.az} ${p.port} ${p.address}`).join('\n'),
      'route-denylist': s.denylist.join(','),
      overlaps: s.overlaps.join(','),
    };
    for (const p of s.remotePorts) data[`remote.${p.az}`] = p.ip;
    if (s.refused) data.refused = s.refused;
    this.kube.writeStatus(data).catch((err: unknown) => this.log.warn('could not write ovn-ic-status', { error: err instanceof Error ? err.message : String(err) }));
  }
}
