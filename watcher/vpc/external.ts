// External Vpcs (seed 000, scheme 2 "共享底层 OVN"): Neutron writes into Tessera's own NB. Every Logical_Router that
// Tessera does not own and that carries neutron:* external_ids appears as a Vpc of the same name
// (neutron-<router uuid>), labelled ovn.kubernetes.io/vpc_external: "true", with status.standby, status.router and
// status.subnets listing the neutron-<network uuid> switches attached to it (plus Tessera Subnets on it).
// - Tessera never writes the router itself: its Subnets add their own rows (switch, router port) and the router's
//   `ports` column gets one mutation per port, as on any router.
// - Deleting such a Vpc object never touches Neutron's router; the object comes back while the router exists.
// - The router's deletion removes the object, unless a Tessera Subnet still names it: then the Vpc keeps an Error
//   condition (NeutronRouterDeleted) and a Warning Event, and its Subnets wait, as for a Vpc with no router.
// - spec (namespaces, staticRoutes, policyRoutes) is the user's and is never written here.
import type { NBTables } from '../../lib/ovsdb/models/nb.js';
import type { Cache } from '../../lib/ovsdb/cache.js';
import { isOurs } from '../../lib/ovn/names.js';
import { subnetVpc, type Subnet, type Vpc } from '../../lib/kube/kubeovn.js';
import type { RowChange } from '../../lib/drift/repair.js';
import { WorkQueue } from '../../lib/workqueue.js';
import type { Logger } from '../../lib/log.js';
import type { Plural, VpcApi } from './kube.js';
import { DRIFT_REPAIRED, type DriftTarget } from '../../lib/drift/repair.js';
import type { Condition } from '../../lib/kube/kubeovn.js';

/** Where a drift repair's Events go (the controller's sink for a Vpc or Subnet). */
interface EventSink {
  event(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

/** The NeutronSync condition after a removal, replacing an earlier one. */
export function neutronSyncConditions(have: Condition[] | undefined, message: string, now = new Date().toISOString()): Condition[] {
  const mine: Condition = { type: NEUTRON_SYNC_CONDITION, status: 'True', reason: NEUTRON_REMOVED_ROWS, message, lastUpdateTime: now, lastTransitionTime: now };
  return [...(have ?? []).filter((c) => c.type !== NEUTRON_SYNC_CONDITION), mine];
}

export const VPC_EXTERNAL_LABEL = 'ovn.kubernetes.io/vpc_external';
export const NEUTRON_ROUTER_DELETED = 'NeutronRouterDeleted';
/** Reason of the Warning Event and NeutronSync condition when rows of a Subnet on a Neutron router were removed and restored. */
export const NEUTRON_REMOVED_ROWS = 'NeutronRemovedRows';
export const NEUTRON_SYNC_CONDITION = 'NeutronSync';
const NEUTRON_NETWORK_KEY = 'neutron:network_name';

type Ids = Record<string, string> | undefined;
export const hasNeutronIds = (ids: Ids): boolean => Object.keys(ids ?? {}).some((k) => k.startsWith('neutron:'));
/** A router another system (Neutron) owns: not ours, with neutron:* external_ids. */
export const isExternalRouter = (ids: Ids): boolean => !isOurs(ids) && hasNeutronIds(ids);
/**
 * Marks a Vpc the sync made or adopted for a Neutron router. The label alone does not: the seed's Vpc dump carries
 * it, and applied where no Neutron router exists (Kubernetes alone) it is a custom Vpc whose router Tessera makes.
 */
export const SYNCED_ANNOTATION = 'tessera.io/synced-from';
export const isExternalVpc = (v: Vpc | undefined): boolean => v?.metadata?.annotations?.[SYNCED_ANNOTATION] === 'neutron';
const isLabelled = (v: Vpc): boolean => v.metadata?.labels?.[VPC_EXTERNAL_LABEL] === 'true';

/** The neutron-<network uuid> switches a router's Neutron ports attach it to, sorted. */
export function neutronSwitchesOf(cache: Cache<NBTables>, routerPorts: readonly string[]): string[] {
  const out = new Set<string>();
  for (const u of routerPorts) {
    const lrp = cache.get('Logical_Router_Port', u);
    const net = lrp?.external_ids[NEUTRON_NETWORK_KEY];
    if (net && !isOurs(lrp.external_ids)) out.add(net);
  }
  return [...out].sort();
}

/** How the Vpc controller serves a Vpc that stands for a foreign router; undefined for Tessera's own Vpcs. */
export interface ExternalView {
  /** The router is in NB. */
  present: boolean;
  /** Neutron's switches attached to it. */
  subnets: string[];
}

export function externalView(cache: Cache<NBTables>, name: string, vpc: Vpc | undefined): ExternalView | undefined {
  const lr = cache.lookup('Logical_Router', 'name', name);
  if (lr && isExternalRouter(lr.external_ids)) return { present: true, subnets: neutronSwitchesOf(cache, lr.ports) };
  if (!lr && isExternalVpc(vpc)) return { present: false, subnets: [] };
  return undefined;
}

/** What the API should hold, given the foreign routers in NB. Pure, so the unit tests pin it. */
export interface ExternalPlan {
  create: string[];
  /** Vpcs of a foreign router's name that lack the label or the synced mark (a user applied the seed's Vpc before the sync ran). */
  adopt: string[];
  remove: string[];
  /** Labelled Vpcs whose router is gone but that Tessera Subnets still name. */
  orphaned: Array<{ vpc: string; subnets: string[] }>;
}

export function planExternalVpcs(routers: string[], vpcs: Vpc[], subnets: Subnet[]): ExternalPlan {
  const byName = new Map(vpcs.map((v) => [v.metadata?.name ?? '', v]));
  const want = new Set(routers);
  const plan: ExternalPlan = { create: [], adopt: [], remove: [], orphaned: [] };
  for (const r of [...want].sort()) {
    const v = byName.get(r);
    if (!v) plan.create.push(r);
    else if (!isExternalVpc(v) || !isLabelled(v)) plan.adopt.push(r);
  }
  for (const v of vpcs) {
    const name = v.metadata?.name ?? '';
    if (!isExternalVpc(v) || want.has(name) || v.metadata?.deletionTimestamp) continue;
    const users = subnets.filter((s) => subnetVpc(s) === name).map((s) => s.metadata?.name ?? '').sort();
    if (users.length) plan.orphaned.push({ vpc: name, subnets: users });
    else plan.remove.push(name);
  }
  return plan;
}

/** Keeps the API's external Vpcs in step with NB's foreign routers; one key, so passes never overlap. */
export class ExternalVpcs {
  private readonly queue: WorkQueue;
  private readonly warned = new Set<string>();

  constructor(
    private readonly cache: Cache<NBTables>,
    private readonly api: VpcApi,
    private readonly log: Logger,
    /** Runs the Vpc controller's sync of one Vpc (its status lists the router's switches). */
    private readonly resync: (plural: Plural, name: string) => void,
  ) {
    this.queue = new WorkQueue(() => this.sync(), {
      name: 'vpc-external', workers: 1,
      onError: (_k, err, n) => log.warn(`external vpcs: sync failed (attempt ${n}): ${err instanceof Error ? err.message : String(err)}`),
    });
  }

  kick(): void {
    this.queue.add('all');
  }

  /** NB monitor events: a foreign router appearing, going, or its ports changing. */
  observe(ev: RowChange): void {
    const rows = [ev.row, ev.old].filter((r): r is object => r !== undefined) as Array<{ name?: string; external_ids?: Record<string, string> }>;
    if (ev.table === 'Logical_Router' && rows.some((r) => hasNeutronIds(r.external_ids))) {
      this.kick();
      for (const r of rows) if (r.name) this.resync('vpcs', r.name);
    } else if (ev.table === 'Logical_Router_Port' && rows.some((r) => hasNeutronIds(r.external_ids))) {
      for (const lr of this.cache.list('Logical_Router')) if (isExternalRouter(lr.external_ids)) this.resync('vpcs', lr.name);
    }
  }

  /**
   * Drift repair of a Subnet's rows: when the Subnet sits on a Neutron router and rows were deleted by another
   * writer, the repair's Normal Event is joined by a Warning NeutronRemovedRows and the NeutronSync condition:
   * Neutron's DB sync (neutron_sync_mode=repair, neutron-ovn-db-sync-util --ovn-neutron_sync_mode repair) deletes
   * router ports and ACLs its database does not know.
   */
  wrapSubnetTarget(t: DriftTarget<EventSink>): DriftTarget<EventSink> {
    return {
      sync: (name) => t.sync(name),
      ref: (name) => {
        const base = t.ref?.(name);
        const s = this.api.subnets.get(name);
        if (!base || !s || !externalView(this.cache, subnetVpc(s), this.api.vpcs.get(subnetVpc(s)))) return base;
        return {
          event: async (type, reason, message) => {
            await base.event(type, reason, message);
            if (reason !== DRIFT_REPAIRED || !/: deleted\b|-> \[\]/.test(message)) return;
            const msg = `rows of this Subnet on Neutron router ${subnetVpc(s)} were removed by another NB writer (Neutron's DB sync in repair mode removes router ports and ACLs it does not know) and Tessera restored them: ${message.replace(/^[^:]*restored: /, '')}`;
            this.log.warn(`subnet ${name}: ${msg}`);
            await base.event('Warning', NEUTRON_REMOVED_ROWS, msg);
            const now = this.api.subnets.get(name);
            await this.api.patchStatus('subnets', name, { conditions: neutronSyncConditions(now?.status?.conditions, msg) }).catch((err: unknown) =>
              this.log.warn(`subnet ${name}: NeutronSync condition not written: ${err instanceof Error ? err.message : String(err)}`));
          },
        };
      },
    };
  }

  async reconcile(): Promise<void> {
    this.kick();
    await this.queue.idle();
  }

  stop(): void {
    this.queue.shutdown();
  }

  private async sync(): Promise<void> {
    const routers = this.cache.list('Logical_Router').filter((r) => isExternalRouter(r.external_ids)).map((r) => r.name);
    const plan = planExternalVpcs(routers, this.api.vpcs.list(), this.api.subnets.list());
    const label = { [VPC_EXTERNAL_LABEL]: 'true' };
    const annotation = { [SYNCED_ANNOTATION]: 'neutron' };
    for (const name of plan.create) {
      this.log.info(`vpc ${name}: Neutron router in NB, creating its external Vpc`);
      await this.api.ensure('vpcs', { metadata: { name, labels: label, annotations: annotation }, spec: {} });
    }
    for (const name of plan.adopt) await this.api.labelVpc?.(name, label, annotation);
    for (const name of plan.remove) {
      this.log.info(`vpc ${name}: Neutron router gone from NB, removing its external Vpc`);
      await this.api.deleteVpc?.(name);
    }
    const orphans = new Set(plan.orphaned.map((o) => o.vpc));
    for (const o of plan.orphaned) {
      if (this.warned.has(o.vpc)) continue;
      this.warned.add(o.vpc);
      const v = this.api.vpcs.get(o.vpc);
      const msg = `Neutron deleted router ${o.vpc}; Subnet(s) ${o.subnets.join(', ')} still name this Vpc: delete them, then the Vpc goes`;
      this.log.warn(`vpc ${o.vpc}: ${msg}`);
      if (v) await this.api.event('vpcs', v, 'Warning', NEUTRON_ROUTER_DELETED, msg).catch(() => {});
      this.resync('vpcs', o.vpc);
    }
    for (const w of [...this.warned]) if (!orphans.has(w)) this.warned.delete(w);
  }
}
