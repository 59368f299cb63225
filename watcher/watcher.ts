// The watcher's controllers wired together: informer events → keyed work queues → controllers →
// NB batches. One Watcher per process; it runs only while this replica leads.
import type { V1Pod, V1Namespace } from '@kubernetes/client-node';
import type { Logger } from '../lib/log.js';
import { POD_NETWORKS_ANNOTATION } from '../lib/kube/annotations.js';
import type { WatcherConfig } from './config.js';
import type { WatcherContext } from './context.js';
import { newIpamState } from './context.js';
import { keyOf, POD_BY_NODE, type KubeWrites, type Stores } from './kube-view.js';
import type { NbClient } from '../lib/ovn/commit.js';
import { txnStats } from '../lib/ovn/commit.js';
import { WorkQueue } from '../lib/workqueue.js';
import { NodeController } from './controllers/nodes.js';
import { PodController } from './controllers/pods.js';
import { ServiceController } from './controllers/services.js';
import { PolicyController } from './controllers/policies.js';
import { masterInit } from './master-init.js';
import type { WatcherMetrics } from './metrics.js';
import { attachVpc, namespaceSwitchChanged, type VpcApi, type VpcController } from './vpc/index.js';
import { OwnWrites } from '../lib/drift/own-writes.js';
import type { RowChange } from '../lib/drift/repair.js';
import { WatcherDrift, watcherOwner } from './drift.js';
import type { NeutronPortController } from './neutron-ports/controller.js';

const sameLabels = (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean =>
  JSON.stringify(Object.entries(a ?? {}).sort()) === JSON.stringify(Object.entries(b ?? {}).sort());

export class Watcher {
  readonly ctx: WatcherContext;
  readonly nodes: NodeController;
  readonly pods: PodController;
  readonly services: ServiceController;
  readonly policies: PolicyController;
  readonly queues: { nodes: WorkQueue; pods: WorkQueue; services: WorkQueue; policies: WorkQueue };
  /** Restores NB rows of ours that another writer changed or deleted (drift.ts). */
  readonly drift: WatcherDrift;
  private running = false;
  reconciles = 0;
  /** Vpcs and Subnets (kubeovn.io), when the process serves them (useVpc). */
  vpc?: VpcController;
  /** Pods as Neutron ports (Kuryr's layouts), when --neutron-secret turns it on. */
  neutron?: NeutronPortController;
  /** When the watcher first saw a pod that still needs its annotation (bounded), and the resulting latencies. */
  private readonly firstSeen = new Map<string, number>();
  private readonly latencies: Record<'nb' | 'annotated', number[]> = { nb: [], annotated: [] };

  constructor(config: WatcherConfig, nb: NbClient, stores: Stores, kube: KubeWrites, log: Logger, metrics?: WatcherMetrics) {
    const own = new OwnWrites(watcherOwner, nb.cache);
    this.ctx = { config, nb: own.wrap(metrics ? metrics.timedNb(nb) : nb), stores, kube, log, ...newIpamState(config) };
    this.nodes = new NodeController(this.ctx);
    this.pods = new PodController(this.ctx);
    this.services = new ServiceController(this.ctx);
    const q = (name: string, fn: (k: string) => Promise<void>) =>
      new WorkQueue(metrics ? metrics.timedSync(name, fn) : fn, {
        name,
        workers: config.workers,
        onError: (key, err, n) => log.warn(`${name} ${key}: sync failed (attempt ${n}): ${err instanceof Error ? err.message : String(err)}`),
      });
    this.queues = {
      nodes: q('node', (k) => this.nodes.sync(k)),
      pods: q('pod', (k) => this.pods.sync(k)),
      services: q('service', (k) => this.services.sync(k)),
      policies: q('networkpolicy', (k) => this.policies.sync(k)),
    };
    this.policies = new PolicyController(this.ctx, (k) => this.queues.policies.add(k));
    this.drift = new WatcherDrift(this.ctx, own, this.queues, (key) => {
      const pod = stores.pods.get(key);
      if (pod) this.policies.podChanged(pod.metadata?.namespace ?? '', [pod.metadata?.labels ?? {}]);
    });
    this.nodes.onNodeReady = (node) => {
      for (const p of stores.pods.byIndex(POD_BY_NODE, node)) this.queues.pods.add(keyOf(p));
    };
    this.pods.onPodChanged = (key, ns) => {
      const pod = stores.pods.get(key);
      this.policies.podChanged(ns, [pod ? (pod.metadata?.labels ?? {}) : undefined], key);
    };
    this.pods.onProgress = (key, stage) => {
      const t = this.firstSeen.get(key);
      if (t === undefined) return;
      if (stage === 'annotated') this.firstSeen.delete(key);
      const l = this.latencies[stage];
      if (l.length >= 100_000) l.splice(0, 50_000);
      l.push(performance.now() - t);
      metrics?.podLatency.observe({ stage }, (performance.now() - t) / 1000);
    };
  }

  useVpc(api: VpcApi): VpcController {
    this.vpc = attachVpc(this.ctx, api, this.queues.pods, this.queues.services);
    this.drift.addTargets(this.vpc.driftTargets());
    return this.vpc;
  }

  /** Neutron pod-port mode: every pod's network comes from Neutron, none from the NB pod controller. */
  useNeutronPorts(c: NeutronPortController): void {
    this.neutron = c;
    this.ctx.podNetworkElsewhere = () => true;
  }

  // ---- informer event entry points (cheap: enqueue keys only) ----

  nodeChanged(name: string): void {
    if (this.running) this.queues.nodes.add(name);
  }

  podChanged(pod: V1Pod, old: V1Pod | undefined, deleted: boolean): void {
    if (!this.running) return;
    const key = keyOf(pod);
    if (deleted) this.firstSeen.delete(key);
    else if (!pod.metadata?.annotations?.[POD_NETWORKS_ANNOTATION] && pod.spec?.nodeName && !this.firstSeen.has(key) && this.firstSeen.size < 100_000) {
      this.firstSeen.set(key, performance.now());
    }
    this.neutron?.podChanged(pod);
    if (deleted || !this.pods.isOwnEcho(pod, old)) this.queues.pods.add(key);
    const net = (p: V1Pod | undefined) => p?.metadata?.annotations?.[POD_NETWORKS_ANNOTATION];
    if (deleted || !old || !sameLabels(pod.metadata?.labels, old.metadata?.labels) || net(pod) !== net(old) || pod.status?.phase !== old.status?.phase) {
      this.policies.podChanged(pod.metadata?.namespace ?? '', [pod.metadata?.labels ?? {}, ...(old ? [old.metadata?.labels ?? {}] : [])], key);
    }
  }

  namespaceChanged(ns: V1Namespace, old: V1Namespace | undefined, deleted: boolean): void {
    if (!this.running) return;
    if (this.vpc) namespaceSwitchChanged(this.ctx, ns, old, this.queues.pods);
    this.neutron?.namespaceChanged(ns.metadata?.name ?? '');
    if (deleted || !old || !sameLabels(ns.metadata?.labels, old.metadata?.labels)) this.policies.namespaceChanged(ns.metadata?.name ?? '');
  }

  serviceChanged(key: string): void {
    if (this.running) this.queues.services.add(key);
  }

  policyChanged(key: string): void {
    if (this.running) this.queues.policies.add(key);
  }

  /** Every NB monitor change: another writer's change to a row of ours is repaired. */
  nbChanged(ev: RowChange): void {
    if (this.running) this.drift.observe(ev);
    if (this.running) this.pods.portUp.nbChanged(ev);
    if (this.running) this.vpc?.external?.observe(ev);
  }

  /** Start-up: master-init, rebuild IPAM (node subnets; pod addresses from our NB ports), then converge everything (nodes first). */
  async start(): Promise<void> {
    const { ctx } = this;
    const n = await masterInit(ctx.nb, ctx.config);
    ctx.log.info(`master-init: ${n ? `${n} operations written` : 'already in place'}`);
    this.nodes.rebuild();
    await this.vpc?.start();
    this.pods.rebuild();
    ctx.log.info(`IPAM rebuilt: ${ctx.subnets.nodes().length} node subnets, ${ctx.ipam.allocated} pod addresses`);
    this.running = true;
    await this.reconcile('start');
  }

  /** Enqueues every object and every owner of a row of ours with no object: one converging pass. */
  async reconcile(reason: string): Promise<void> {
    if (!this.running) return;
    this.reconciles++;
    const { stores, log } = this.ctx;
    const t0 = Date.now();
    for (const n of stores.nodes.list()) this.queues.nodes.add(keyOf(n));
    for (const k of this.nodes.staleKeys()) this.queues.nodes.add(k);
    await this.queues.nodes.idle();
    await this.vpc?.reconcile();
    for (const p of stores.pods.list()) this.queues.pods.add(keyOf(p));
    for (const k of this.pods.staleKeys()) this.queues.pods.add(k);
    for (const s of stores.services.list()) this.queues.services.add(keyOf(s));
    for (const k of this.services.staleKeys()) this.queues.services.add(k);
    await this.queues.pods.idle();
    await this.neutron?.reconcile();
    for (const p of stores.policies.list()) this.queues.policies.add(keyOf(p));
    for (const k of this.policies.staleKeys()) this.queues.policies.add(k);
    await Promise.all([this.queues.services.idle(), this.queues.policies.idle()]);
    log.info(`reconcile (${reason}) done in ${Date.now() - t0} ms`);
  }

  async idle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await Promise.all(Object.values(this.queues).map((q) => q.idle()));
    }
  }

  stop(): void {
    this.running = false;
    this.vpc?.stop();
    this.neutron?.stop();
    this.drift.stop();
    for (const q of Object.values(this.queues)) q.shutdown();
  }

  /** Watcher-side latency from the pod event: to its port committed in NB, and to its annotation accepted. */
  latencySummary(stage: 'nb' | 'annotated'): { count: number; p50: number; p99: number; max: number } {
    const s = [...this.latencies[stage]].sort((a, b) => a - b);
    const at = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] : 0);
    return { count: s.length, p50: at(0.5), p99: at(0.99), max: s.length ? s[s.length - 1] : 0 };
  }

  stats(): Record<string, unknown> {
    return {
      transactions: txnStats.transactions,
      operations: txnStats.operations,
      reconciles: this.reconciles,
      drift: { repairs: this.drift.repair.repairs, fights: this.drift.repair.fights },
      nodeSubnets: this.ctx.subnets.nodes().length,
      podAddresses: this.ctx.ipam.allocated,
      queues: Object.fromEntries(Object.entries(this.queues).map(([k, q]) => [k, { length: q.length, processed: q.processed }])),
      rssBytes: process.memoryUsage.rss(), // not memoryUsage(): that walks the heap, and /stats is polled
      podLatencyMs: { nbCommitted: this.latencySummary('nb'), annotated: this.latencySummary('annotated') },
    };
  }
}
