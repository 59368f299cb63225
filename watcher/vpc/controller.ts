// Vpc and Subnet controller: converges each custom Vpc to its router, routes and policies, each Subnet to its
// switch linked to its Vpc's router, registers the Subnet's addresses with the pod IPAM, and writes status.
// ovn-default (the per-node switches of --cluster-cidr) and join (master-init's join switch) are served by the
// node controller and master-init; here they only get their objects and status.
import { DEFAULT_SUBNET, DEFAULT_VPC, JOIN_SUBNET, SUBNET_FINALIZER, subnetAddressing, subnetVpc, type Subnet, type SubnetAddressing, type Vpc } from '../../lib/kube/kubeovn.js';
import { formatCIDR, overlaps, size, type IPNet } from '../../lib/ipnet/index.js';
import type { WatcherContext } from '../context.js';
import { Txn } from '../../lib/ovn/txn.js';
import { commit } from '../../lib/ovn/commit.js';
import { WorkQueue } from '../../lib/workqueue.js';
import { CLUSTER_LB_GROUP } from '../../lib/ovn/names.js';
import type { Plural, VpcApi } from './kube.js';
import { subnetSwitch, vpcOwnedBy, vpcRouter, type VpcOwnerKind } from './names.js';
import type { DriftTarget } from '../../lib/drift/repair.js';

/** Where a drift repair's Events go: the Vpc or Subnet itself. */
interface EventSink {
  event(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}
import { subnetRows, vpcRows } from './translate.js';
import { deleteSubnet, deleteVpc, ensureSubnet, ensureVpc } from './nb-ops.js';
import { conditionsFor, sameStatus, type SubnetVerdict } from './status.js';
import { nextHops } from './next-hops.js';
import { externalView, NEUTRON_ROUTER_DELETED, type ExternalVpcs } from './external.js';

/** What a Subnet is served with: its addressing as applied to NB. */
interface Served {
  vpc: string;
  addressing: SubnetAddressing;
}

/** natOutgoing is the default Vpc's (its gateways SNAT); on a custom Vpc it is served without it, and said so. */
const natIgnored = (s: Subnet): string | undefined =>
  (s.spec?.natOutgoing && subnetVpc(s) !== DEFAULT_VPC ? `natOutgoing is ignored: only Subnets of Vpc ${DEFAULT_VPC} leave the cluster through the gateways (SNAT); Vpc ${subnetVpc(s)} has no gateway` : undefined);
const age = (s: Subnet): string => `${String(s.metadata?.creationTimestamp ?? '')} ${s.metadata?.name ?? ''}`;
const keyOf = (plural: Plural, name: string): string => `${plural}/${name}`;

export class VpcController {
  readonly queue: WorkQueue;
  private readonly served = new Map<string, Served>();
  /** Last Warning per object, so a sync that keeps failing the same way sends one Event. */
  private readonly warned = new Map<string, string>();
  private readonly counts = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  /** Called when a Vpc's route next hops change: the pods holding them (or no longer) get their port security again. */
  onNextHopsChanged: () => void = () => {};
  private readonly hops = new Map<string, string>();
  /** Called when a Subnet starts being served: pods waiting for it can be placed. */
  onSubnetReady: (name: string) => void = () => {};
  /** Vpcs synced from foreign (Neutron) routers in NB (external.ts). */
  external?: ExternalVpcs;

  constructor(private readonly ctx: WatcherContext, readonly api: VpcApi) {
    this.queue = new WorkQueue((k) => this.sync(k), {
      name: 'vpc',
      workers: 1, // one at a time: overlap checks read what other Subnets are served with
      onError: (key, err, n) => ctx.log.warn(`vpc ${key}: sync failed (attempt ${n}): ${err instanceof Error ? err.message : String(err)}`),
    });
  }

  private started = false;

  /** Informer events; ignored until start() (its reconcile enqueues everything). */
  changed(plural: Plural, name: string): void {
    if (this.started) this.queue.add(keyOf(plural, name));
    if (this.started) this.external?.kick();
  }

  /**
   * Drift repair (watcher/drift.ts) of the rows owned by 'vpc' and 'subnet': another writer's change runs that
   * object's sync on this queue; the repair Events go on the Vpc or Subnet, as this controller's own do.
   */
  driftTargets(): Record<VpcOwnerKind, DriftTarget<EventSink>> {
    const target = (plural: Plural): DriftTarget<EventSink> => ({
      sync: (name) => this.queue.addAndWait(keyOf(plural, name)),
      ref: (name) => {
        const obj = plural === 'vpcs' ? this.api.vpcs.get(name) : this.api.subnets.get(name);
        return obj && { event: (type, reason, message) => this.api.event(plural, obj, type, reason, message) };
      },
    });
    return { vpc: target('vpcs'), subnet: this.external?.wrapSubnetTarget(target('subnets')) ?? target('subnets') };
  }

  /** Switch names of the Subnets being served (the pod IPAM knows them too). */
  servedSubnet(ls: string): Served | undefined {
    return this.served.get(ls);
  }

  /** Start-up: the default objects exist; Subnets already in NB serve the addressing NB has, so pod IPAM rebuilds on them. */
  /** Creates ovn-cluster, ovn-default and join unless they exist (a CRD installed later gets them on the next reconcile). */
  private async ensureDefaults(): Promise<void> {
    const { config } = this.ctx;
    const proto = (n: IPNet) => (n.family === 4 ? 'IPv4' : 'IPv6');
    if (!this.api.vpcs.get(DEFAULT_VPC)) await this.api.ensure('vpcs', { metadata: { name: DEFAULT_VPC }, spec: {} });
    if (!this.api.subnets.get(DEFAULT_SUBNET)) await this.api.ensure('subnets', { metadata: { name: DEFAULT_SUBNET }, spec: { cidrBlock: formatCIDR(config.clusterCidr), vpc: DEFAULT_VPC, default: true, natOutgoing: true, protocol: proto(config.clusterCidr) } });
    if (!this.api.subnets.get(JOIN_SUBNET)) await this.api.ensure('subnets', { metadata: { name: JOIN_SUBNET }, spec: { cidrBlock: formatCIDR(config.joinCidr), vpc: DEFAULT_VPC, protocol: proto(config.joinCidr) } });
  }

  async start(): Promise<void> {
    await this.ensureDefaults();
    for (const s of [...this.api.subnets.list()].sort((a, b) => (age(a) < age(b) ? -1 : 1))) {
      const name = s.metadata?.name ?? '';
      const ls = this.ctx.nb.cache.lookup('Logical_Switch', 'name', subnetSwitch(name));
      if (!ls || vpcOwnedBy(ls.external_ids, 'subnet') !== name) continue;
      try {
        const a = subnetAddressing(s.spec);
        // A cidrBlock changed while the watcher was down is judged by the sync; until then NB's network stands.
        const addressing = formatCIDR(a.cidr) === ls.other_config.subnet ? a : subnetAddressing({ cidrBlock: ls.other_config.subnet });
        this.serve(name, ls.external_ids['tessera.io/vpc'] || subnetVpc(s), addressing);
      } catch (err) {
        this.ctx.log.warn(`subnet ${name}: not rebuilt: ${(err as Error).message}`);
      }
    }
    this.started = true;
    this.timer = setInterval(() => this.refreshCounts(), 1000);
    this.timer.unref();
  }

  /** One converging pass: Vpcs, then Subnets oldest first (the older of two overlapping ones wins), then stale rows. */
  async reconcile(): Promise<void> {
    await this.ensureDefaults();
    await this.external?.reconcile();
    for (const v of this.api.vpcs.list()) this.queue.add(keyOf('vpcs', v.metadata?.name ?? ''));
    for (const r of this.ctx.nb.cache.list('Logical_Router')) {
      const owner = vpcOwnedBy(r.external_ids, 'vpc');
      if (owner) this.queue.add(keyOf('vpcs', owner));
    }
    await this.queue.idle();
    for (const s of [...this.api.subnets.list()].sort((a, b) => (age(a) < age(b) ? -1 : 1))) this.queue.add(keyOf('subnets', s.metadata?.name ?? ''));
    for (const ls of this.ctx.nb.cache.list('Logical_Switch')) {
      const owner = vpcOwnedBy(ls.external_ids, 'subnet');
      if (owner) this.queue.add(keyOf('subnets', owner));
    }
    await this.queue.idle();
  }

  private relisting?: Promise<void>;
  private relistAgain = false;

  /** An informer listed again: one full reconcile (another relist meanwhile runs one more after it). */
  relisted(plural: Plural): void {
    if (!this.started) return;
    this.ctx.log.info(`vpc: ${plural} listed again (watch restarted): reconciling every Vpc and Subnet`);
    if (this.relisting) {
      this.relistAgain = true;
      return;
    }
    this.relisting = (async () => {
      do {
        this.relistAgain = false;
        await this.reconcile().then(
          () => this.ctx.log.info('vpc: reconcile after relist done'),
          (err: unknown) => this.ctx.log.warn(`vpc: reconcile after relist failed: ${(err as Error).message}`),
        );
      } while (this.relistAgain);
      this.relisting = undefined;
    })();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.external?.stop();
    this.queue.shutdown();
  }

  private async sync(key: string): Promise<void> {
    const [plural, name] = key.split('/') as [Plural, string];
    if (plural === 'vpcs') return this.syncVpc(name);
    return this.syncSubnet(name);
  }

  // ---- Vpc ----

  private async syncVpc(name: string): Promise<void> {
    const vpc = this.api.vpcs.get(name);
    const custom = name !== DEFAULT_VPC;
    const txn = new Txn(this.ctx.nb.cache, `vpc ${name}`);
    if (!vpc) {
      if (this.hops.delete(name)) this.onNextHopsChanged();
      deleteVpc(txn, name, vpcRouter(name), custom);
      await commit(this.ctx.nb, txn);
      for (const [s, sv] of this.served) if (sv.vpc === name) this.queue.add(keyOf('subnets', s));
      return;
    }
    let verdict: SubnetVerdict = { ok: true, reason: 'Ready', message: `router ${vpcRouter(name)}` };
    // A foreign (Neutron) router is never written: only the Vpc's own routes and policies go on it.
    const ext = externalView(this.ctx.nb.cache, name, vpc);
    try {
      if (ext && !ext.present) throw Object.assign(new Error(`Neutron's router ${name} is gone from NB`), { reason: NEUTRON_ROUTER_DELETED });
      const rows = vpcRows(vpc);
      ensureVpc(txn, name, ext ? { ...rows, routerSpec: undefined } : rows);
      await commit(this.ctx.nb, txn);
    } catch (err) {
      verdict = { ok: false, reason: (err as { reason?: string }).reason ?? 'InvalidSpec', message: (err as Error).message };
    }
    await this.report('vpcs', vpc, verdict);
    const hops = nextHops(vpc).join(',');
    if ((this.hops.get(name) ?? '') !== hops) {
      this.hops.set(name, hops);
      this.onNextHopsChanged();
    }
    const subnets = [...this.served].filter(([, s]) => s.vpc === name).map(([n]) => n);
    if (!custom) subnets.push(DEFAULT_SUBNET, JOIN_SUBNET);
    subnets.push(...(ext?.subnets ?? []));
    const status = { default: !custom, standby: true, router: vpcRouter(name), subnets: subnets.sort(), conditions: conditionsFor(verdict, vpc.status?.conditions) };
    if (!sameStatus(status, vpc.status)) await this.api.patchStatus('vpcs', name, status);
    // Subnets waiting for this Vpc's router.
    for (const s of this.api.subnets.list()) if (subnetVpc(s) === name && !this.served.has(s.metadata?.name ?? '')) this.queue.add(keyOf('subnets', s.metadata?.name ?? ''));
  }

  // ---- Subnet ----

  private async syncSubnet(name: string): Promise<void> {
    const s = this.api.subnets.get(name);
    if (name === DEFAULT_SUBNET || name === JOIN_SUBNET) return s ? this.builtinStatus(s) : undefined;
    if (!s) return this.unserve(name);
    const users = this.ctx.ipam.forSwitch(subnetSwitch(name))?.allocated ?? 0;
    const finalizers = s.metadata?.finalizers ?? [];
    if (s.metadata?.deletionTimestamp) {
      if (users > 0) {
        await this.writeStatus(s, { ok: false, reason: 'Terminating', message: `waiting for ${users} pod(s) with addresses in this Subnet to go` });
        return;
      }
      await this.unserve(name);
      if (finalizers.includes(SUBNET_FINALIZER)) await this.api.setFinalizers('subnets', name, s.metadata.resourceVersion, finalizers.filter((f) => f !== SUBNET_FINALIZER));
      return;
    }
    if (!finalizers.includes(SUBNET_FINALIZER)) await this.api.setFinalizers('subnets', name, s.metadata?.resourceVersion, [...finalizers, SUBNET_FINALIZER]);
    const { verdict, addressing } = this.judge(s, users);
    if (!verdict.ok || !addressing) {
      await this.writeStatus(s, verdict);
      return;
    }
    const txn = new Txn(this.ctx.nb.cache, `subnet ${name}`);
    try {
      // Default-Vpc Subnets get the cluster's Service load balancers; a custom Vpc's switches get only the Services
      // whose endpoints are all in that Vpc (controllers/service-vpc.ts attaches them).
      ensureSubnet(txn, name, subnetRows(s, addressing), subnetVpc(s) === DEFAULT_VPC ? CLUSTER_LB_GROUP : undefined);
    } catch (err) {
      await this.writeStatus(s, { ok: false, reason: 'InvalidSpec', message: (err as Error).message });
      return;
    }
    await commit(this.ctx.nb, txn);
    const first = !this.served.has(name);
    this.serve(name, subnetVpc(s), addressing);
    const note = natIgnored(s);
    await this.writeStatus(s, { ok: true, reason: 'Ready', message: `switch ${subnetSwitch(name)} on router ${vpcRouter(subnetVpc(s))}${note ? `; ${note}` : ''}` });
    if (note && this.warned.get(`${keyOf('subnets', name)}#nat`) !== note) {
      this.warned.set(`${keyOf('subnets', name)}#nat`, note);
      await this.api.event('subnets', s, 'Warning', 'NatOutgoingIgnored', note).catch(() => {});
    }
    this.queue.add(keyOf('vpcs', subnetVpc(s)));
    if (first) this.onSubnetReady(name);
  }

  /** Whether the Subnet can be served as its spec says, and with what addressing. */
  private judge(s: Subnet, users: number): { verdict: SubnetVerdict; addressing?: SubnetAddressing } {
    const name = s.metadata?.name ?? '';
    const vpc = subnetVpc(s);
    const refuse = (reason: string, message: string) => ({ verdict: { ok: false, reason, message } });
    let a: SubnetAddressing;
    try {
      a = subnetAddressing(s.spec);
    } catch (err) {
      return refuse('InvalidSpec', (err as Error).message);
    }
    const v = this.api.vpcs.get(vpc);
    if (vpc !== DEFAULT_VPC && (!v || v.metadata?.deletionTimestamp)) return refuse('VpcNotFound', `Vpc ${vpc} does not exist`);
    if (vpc !== DEFAULT_VPC && !this.ctx.nb.cache.lookup('Logical_Router', 'name', vpcRouter(vpc))) return refuse('VpcNotReady', `router of Vpc ${vpc} is not there yet`);
    if (this.ctx.stores.nodes.get(name)) return refuse('NameConflict', `a Node is named ${name}: its switch has that name`);
    const ls = this.ctx.nb.cache.lookup('Logical_Switch', 'name', subnetSwitch(name));
    if (ls && vpcOwnedBy(ls.external_ids, 'subnet') !== name) return refuse('NameConflict', `logical switch ${name} exists and is not this Subnet's`);
    const have = this.served.get(name);
    if (have && formatCIDR(have.addressing.cidr) !== formatCIDR(a.cidr) && users > 0) {
      return refuse('CidrChangeRefused', `cidrBlock ${formatCIDR(have.addressing.cidr)} -> ${formatCIDR(a.cidr)} refused: ${users} pod(s) hold addresses in ${formatCIDR(have.addressing.cidr)}; the Subnet keeps serving it`);
    }
    const taken: Array<[string, IPNet]> = [...this.served].filter(([n, sv]) => n !== name && sv.vpc === vpc).map(([n, sv]) => [`Subnet ${n}`, sv.addressing.cidr]);
    if (vpc === DEFAULT_VPC) {
      const c = this.ctx.config;
      taken.push([`Subnet ${DEFAULT_SUBNET} (--cluster-cidr)`, c.clusterCidr], [`Subnet ${JOIN_SUBNET}`, c.joinCidr], ['the service CIDR', c.serviceCidr]);
    }
    const clash = taken.find(([, net]) => net.family === a.cidr.family && overlaps(net, a.cidr));
    if (clash) return refuse('CidrOverlap', `cidrBlock ${formatCIDR(a.cidr)} overlaps ${clash[0]} (${formatCIDR(clash[1])}) in Vpc ${vpc}`);
    return { verdict: { ok: true, reason: 'Ready', message: '' }, addressing: a };
  }

  private serve(name: string, vpc: string, addressing: SubnetAddressing): void {
    this.served.set(name, { vpc, addressing });
    this.ctx.ipam.setSubnet(subnetSwitch(name), addressing.cidr, { gateway: addressing.gateway, exclude: addressing.exclude });
  }

  /** Removes every NB row the Subnet owned and its addresses. */
  private async unserve(name: string): Promise<void> {
    const txn = new Txn(this.ctx.nb.cache, `subnet ${name} delete`);
    deleteSubnet(txn, name);
    await commit(this.ctx.nb, txn);
    const vpc = this.served.get(name)?.vpc;
    this.served.delete(name);
    this.counts.delete(name);
    this.warned.delete(keyOf('subnets', name));
    this.warned.delete(`${keyOf('subnets', name)}#nat`);
    this.ctx.ipam.removeSwitch(subnetSwitch(name));
    if (vpc) this.queue.add(keyOf('vpcs', vpc));
  }

  private async writeStatus(s: Subnet, verdict: SubnetVerdict): Promise<void> {
    const name = s.metadata?.name ?? '';
    const sipam = this.served.has(name) ? this.ctx.ipam.forSwitch(subnetSwitch(name)) : undefined;
    const used = sipam?.allocated ?? 0;
    this.counts.set(name, String(used));
    const status = { v4usingIPs: used, v4availableIPs: sipam ? sipam.capacity - used : 0, conditions: conditionsFor(verdict, s.status?.conditions) };
    await this.report('subnets', s, verdict);
    if (!sameStatus(status, s.status)) await this.api.patchStatus('subnets', name, status);
  }

  /** A Warning Event once per distinct problem, a Normal one when it clears. */
  private async report(plural: Plural, obj: Vpc | Subnet, v: SubnetVerdict): Promise<void> {
    const k = keyOf(plural, obj.metadata?.name ?? '');
    const what = v.ok ? '' : `${v.reason}: ${v.message}`;
    if ((this.warned.get(k) ?? '') === what) return;
    this.warned.set(k, what);
    if (v.ok) return;
    this.ctx.log.warn(`${k}: ${what}`);
    await this.api.event(plural, obj, 'Warning', v.reason, v.message).catch(() => {});
  }

  /** ovn-default: the node switches' addresses; join: the join switch's ports. */
  private async builtinStatus(s: Subnet): Promise<void> {
    const name = s.metadata?.name ?? '';
    let used = 0;
    let avail = 0;
    if (name === DEFAULT_SUBNET) {
      for (const u of this.ctx.ipam.usage()) {
        if (this.served.has(u.ls)) continue;
        used += u.used;
        avail += u.free;
      }
    } else {
      const ls = this.ctx.nb.cache.lookup('Logical_Switch', 'name', JOIN_SUBNET);
      used = Math.max(0, (ls?.ports.length ?? 1) - 1);
      avail = Number(size(this.ctx.config.joinCidr)) - 3 - used;
    }
    this.counts.set(name, String(used));
    const status = { v4usingIPs: used, v4availableIPs: avail, conditions: conditionsFor({ ok: true, reason: 'Ready', message: '' }, s.status?.conditions) };
    if (!sameStatus(status, s.status)) await this.api.patchStatus('subnets', name, status);
  }

  /** Address counts move with pods: Subnets whose count changed get their status rewritten (and deleting ones re-checked). */
  private refreshCounts(): void {
    const usedOn = (name: string): number => this.ctx.ipam.forSwitch(subnetSwitch(name))?.allocated ?? 0;
    let defaultUsed = 0;
    for (const u of this.ctx.ipam.usage()) if (!this.served.has(u.ls)) defaultUsed += u.used;
    for (const name of [...this.served.keys(), DEFAULT_SUBNET]) {
      const now = String(name === DEFAULT_SUBNET ? defaultUsed : usedOn(name));
      if (this.counts.get(name) !== now) this.queue.add(keyOf('subnets', name));
    }
    for (const s of this.api.subnets.list()) if (s.metadata?.deletionTimestamp) this.queue.add(keyOf('subnets', s.metadata.name ?? ''));
  }
}
