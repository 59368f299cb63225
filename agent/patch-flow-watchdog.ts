// Watches this node's logical patch flows for the OVN 23.03 re-key bug (lib/ovn/patch-flows.ts): when a patch
// port's tunnel key changes in the Southbound database, ovn-controller may keep entering the peer datapath with
// the old key, and traffic across that patch stops (on an OVN-IC gateway: all traffic to other clusters). The
// watchdog compares table 65 with the SB keys after every key change (and periodically), and when a flow is
// still stale after a grace period it asks ovn-controller for a full recompute, which repairs it.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { OvsdbClient, type TlsOptions } from '../lib/ovsdb/index.js';
import { SB_MODEL, type SBTables } from '../lib/ovsdb/models/sb.js';
import { parsePatchEntries, stalePatchEntries, type PatchEntry } from '../lib/ovn/patch-flows.js';
import type { Logger } from '../lib/log.js';
import type { VswitchClient } from './ovs-ports.js';
import { southboundRemotes } from './southbound.js';

/** Port_Binding types whose peers enter a datapath through table 65 (router <-> switch, gateway router ports). */
const PATCH_TYPES = ['patch', 'l3gateway'];

export interface WatchdogDeps {
  sb: OvsdbClient<SBTables>;
  /** `ovs-ofctl dump-flows br-int table=65` output. */
  dumpFlows: () => Promise<string>;
  /** `ovn-appctl -t ovn-controller recompute`. */
  recompute: () => Promise<void>;
  log: Logger;
  /** How long ovn-controller gets to follow a key change before a stale flow counts (ms). */
  graceMs?: number;
  /** Check this often even without SB changes (ms); 0: only on changes. */
  intervalMs?: number;
}

export class PatchFlowWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private interval: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;

  constructor(private readonly d: WatchdogDeps) {}

  /** Subscribes to patch port bindings and starts checking. */
  async start(): Promise<void> {
    const where = PATCH_TYPES.map((t) => ['type', '==', t] as ['type', '==', string]);
    await this.d.sb.monitor({ Port_Binding: { columns: ['logical_port', 'type', 'tunnel_key', 'datapath'], where }, Datapath_Binding: { columns: ['tunnel_key'] } });
    this.d.sb.on('change', (ev) => {
      if (ev.table === 'Port_Binding' || ev.table === 'Datapath_Binding') this.schedule();
    });
    if (this.d.intervalMs) this.interval = setInterval(() => this.schedule(), this.d.intervalMs).unref();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.interval);
  }

  /** The SB patch ports as (datapath key, port key). */
  ports(): PatchEntry[] {
    const out: PatchEntry[] = [];
    for (const pb of this.d.sb.cache.list('Port_Binding')) {
      const dp = this.d.sb.cache.get('Datapath_Binding', pb.datapath);
      if (dp && PATCH_TYPES.includes(pb.type)) out.push({ dp: dp.tunnel_key, key: pb.tunnel_key });
    }
    return out;
  }

  /** Stale table-65 entries right now. */
  async stale(): Promise<PatchEntry[]> {
    return stalePatchEntries(parsePatchEntries(await this.d.dumpFlows()), this.ports());
  }

  /** Debounced: a burst of SB changes is one check, a grace period after the last of them. */
  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), this.d.graceMs ?? 2000);
    this.timer.unref();
  }

  /** Checks once; a stale entry is confirmed after another grace period before the recompute. */
  async check(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      if ((await this.stale()).length === 0) return;
      await new Promise((r) => setTimeout(r, this.d.graceMs ?? 2000));
      const stale = await this.stale();
      if (stale.length === 0) return;
      const what = stale.map((e) => `datapath ${e.dp} entered as port ${e.key}`).join(', ');
      this.d.log.warn(`stale logical patch flows (${what}): no such patch port in the Southbound database; asking ovn-controller to recompute (OVN 23.03 misses patch port re-keys)`);
      await this.d.recompute();
    } catch (err) {
      this.d.log.warn('patch flow check failed (retried on the next change or interval)', { error: (err as Error).message });
    } finally {
      this.running = false;
    }
  }
}

/** br-int's OpenFlow management socket next to the OVS database socket (unix:PATH), else ovs-ofctl's default. */
export function bridgeTarget(ovsDb: string, bridge = 'br-int'): string {
  return ovsDb.startsWith('unix:') ? `unix:${join(dirname(ovsDb.slice(5)), `${bridge}.mgmt`)}` : bridge;
}

/** ovn-controller's control socket, from its pidfile in `rundir`. */
export function ovnControllerSocket(rundir: string): string {
  const pid = Number(readFileSync(join(rundir, 'ovn-controller.pid'), 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${join(rundir, 'ovn-controller.pid')} holds no pid`);
  return join(rundir, `ovn-controller.${pid}.ctl`);
}

/**
 * Connects to the Southbound database ovn-controller uses (Open_vSwitch external_ids:ovn-remote) and starts the
 * watchdog. Resolves to undefined, with a warning, when the node has no ovn-remote yet; else to its stop function.
 */
export async function startPatchFlowWatchdog(o: { ovs: VswitchClient; ovsDb: string; tls?: TlsOptions; ovnRundir: string; intervalMs: number; log: Logger }): Promise<(() => void) | undefined> {
  const sbAt = southboundRemotes(o.ovs, o.tls);
  if ('why' in sbAt) {
    o.log.warn(`${sbAt.why}: the patch flow watchdog is off`);
    return undefined;
  }
  const sb = await OvsdbClient.connect(SB_MODEL, { remotes: sbAt.remotes, tls: o.tls, leaderOnly: false, logger: o.log });
  const target = bridgeTarget(o.ovsDb);
  const watchdog = new PatchFlowWatchdog({
    sb,
    log: o.log,
    intervalMs: o.intervalMs,
    dumpFlows: async () => (await execa('ovs-ofctl', ['dump-flows', target, 'table=65'], { timeout: 10_000 })).stdout,
    recompute: async () => {
      await execa('ovs-appctl', ['-t', ovnControllerSocket(o.ovnRundir), 'recompute'], { timeout: 10_000 });
    },
  });
  await watchdog.start();
  return () => {
    watchdog.stop();
    sb.close();
  };
}
