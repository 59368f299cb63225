// NetworkPolicy controller: converges each policy's port group, address sets and ACLs to
// translatePolicy()'s plan. Pod and namespace changes re-enqueue only the policies they can affect:
// of the policies of the pod's namespace and those whose namespaceSelector peers match the pod's namespace
// (or cluster-wide named ports), only the ones that select the pod or have it as a peer (podInterest); no
// pod event re-translates the policies it cannot change. A pod event on a policy translated before (and
// unchanged since) is applied incrementally (podSync): only that pod's addresses and port are compared with
// NB and mutated. Policy and namespace changes, reconcile and drift repair translate the policy in full.
import type { V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { podPort } from '../../lib/ovn/names.js';
import type { WatcherContext } from '../context.js';
import { POD_BY_NAMESPACE, POD_BY_PORT_NAME, POLICY_BY_NAMESPACE, keyOf } from '../kube-view.js';
import { Txn } from '../../lib/ovn/txn.js';
import { commit } from '../../lib/ovn/commit.js';
import { ensureAddressSet, deleteAddressSet, addressSetAdd, addressSetRemove } from '../../lib/ovn/address-set.js';
import { ensurePortGroup, deletePortGroup, portGroupAddPorts, portGroupRemovePorts } from '../../lib/ovn/port-group.js';
import { ownerIds, ownedBy } from '../../lib/ovn/names.js';
import { translatePolicy, podInterest, policyPortGroup, PolicyError, type PodInterest, type PodInfo, type PolicyView } from '../policy/translate.js';
import { matchesSelector, SelectorError } from '../policy/selector.js';
import { PolicyModel } from '../policy/incremental.js';
import { namespaceInterest, type NamespaceInterest } from '../policy/namespace-interest.js';
import { podIPs, wantsPort } from './pods.js';

/** Queue keys `<policy key> pods`: the pod events pending for that policy (policy names have no spaces). */
const POD_SUFFIX = ' pods';

export class PolicyController {
  /** Policies whose plan depends on pods/namespaces beyond their own namespace. */
  private readonly clusterWide = new Set<string>();
  /** Which pods can change each policy (per policy object: objects are replaced on change). */
  private readonly interest = new WeakMap<V1NetworkPolicy, PodInterest>();
  private readonly nsInterest = new WeakMap<V1NetworkPolicy, NamespaceInterest>();
  /** Per namespace (by its labels object), the cluster-wide policies whose namespace side can match it. */
  private readonly crossIndex = new Map<string, { labels: Record<string, string> | undefined; keys: string[] }>();
  /**
   * What policies need of each pod version. Informer objects are replaced on every change, never edited in
   * place, so one parse of the annotation serves every policy that looks at the pod until it changes.
   */
  private readonly infos = new WeakMap<V1Pod, PodInfo | null>();
  private readonly lastError = new Map<string, string>();
  /** Address sets per pod of each policy last translated in full (and committed since). */
  private readonly models = new Map<string, PolicyModel>();
  /** Pod keys whose events a policy has not applied yet. */
  private readonly pending = new Map<string, Set<string>>();
  /** Each policy's syncs, full and per pod, run one at a time (they read the cache the previous one committed). */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly ctx: WatcherContext, private readonly enqueue: (key: string) => void) {}

  /**
   * A pod changed (labels, address, port): re-evaluate the policies it can affect. `podLabels` are the
   * pod's labels before and after (either may be undefined: a pod we no longer know; then every policy
   * of the namespace and every cross-namespace one matching the namespace is re-evaluated). With `podKey`,
   * policies with a model apply just that pod (podSync); without, they are translated in full.
   */
  podChanged(namespace: string, podLabels?: Array<Record<string, string> | undefined>, podKey?: string): void {
    const { stores } = this.ctx;
    const nsLabels = stores.namespaces.get(namespace)?.metadata?.labels ?? {};
    const known = podLabels?.length && podLabels.every((l) => l !== undefined);
    const affects = (p: V1NetworkPolicy): boolean => {
      if (!known) return true;
      let f = this.interest.get(p);
      if (!f) this.interest.set(p, (f = podInterest(p)));
      return podLabels!.some((l) => f!(namespace, nsLabels, l!));
    };
    const route = (k: string): void => {
      if (!podKey || !this.models.has(k)) return this.enqueue(k);
      let s = this.pending.get(k);
      if (!s) this.pending.set(k, (s = new Set()));
      s.add(podKey);
      this.enqueue(k + POD_SUFFIX);
    };
    for (const p of stores.policies.byIndex(POLICY_BY_NAMESPACE, namespace)) if (affects(p)) route(keyOf(p));
    for (const k of this.crossNamespace(namespace)) {
      const p = stores.policies.get(k);
      if (!p) this.enqueue(k);
      else if (p.metadata?.namespace !== namespace && affects(p)) route(k);
    }
  }

  /** The cluster-wide policies that can see pods of this namespace (indexed per namespace labels). */
  private crossNamespace(namespace: string): string[] {
    const labels = this.ctx.stores.namespaces.get(namespace)?.metadata?.labels;
    const have = this.crossIndex.get(namespace);
    if (have && have.labels === labels) return have.keys;
    const keys: string[] = [];
    for (const k of this.clusterWide) {
      const p = this.ctx.stores.policies.get(k);
      if (!p) {
        keys.push(k);
        continue;
      }
      let f = this.nsInterest.get(p);
      if (!f) this.nsInterest.set(p, (f = namespaceInterest(p)));
      if (f(labels ?? {})) keys.push(k);
    }
    this.crossIndex.set(namespace, { labels, keys });
    return keys;
  }

  /** A namespace's labels changed (or it came or went): its selectors may match the old labels or the new. */
  namespaceChanged(namespace: string): void {
    this.crossIndex.delete(namespace);
    for (const p of this.ctx.stores.policies.byIndex(POLICY_BY_NAMESPACE, namespace)) this.enqueue(keyOf(p));
    for (const k of this.clusterWide) this.enqueue(k);
  }

  /** Policy keys with rows of ours but no policy (for reconcile). */
  staleKeys(): string[] {
    const keys = new Set<string>();
    for (const t of ['Port_Group', 'Address_Set'] as const) {
      for (const r of this.ctx.nb.cache.list(t)) {
        const k = ownedBy(r.external_ids, 'network-policy');
        if (k && !this.ctx.stores.policies.get(k)) keys.add(k);
      }
    }
    return [...keys];
  }

  private podInfo(pod: V1Pod): PodInfo | undefined {
    let info = this.infos.get(pod);
    if (info === undefined) this.infos.set(pod, (info = this.readPodInfo(pod) ?? null));
    return info ?? undefined;
  }

  private readPodInfo(pod: V1Pod): PodInfo | undefined {
    if (!wantsPort(pod)) return undefined;
    // The address committed to the pod's own port: its annotation is writable by whoever may patch the pod.
    const ips = podIPs(this.ctx, pod);
    if (!ips) return undefined;
    return {
      namespace: pod.metadata?.namespace ?? '',
      name: pod.metadata?.name ?? '',
      labels: pod.metadata?.labels ?? {},
      ips,
      ports: (pod.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' }))),
    };
  }

  private view(): PolicyView {
    const { stores } = this.ctx;
    const infos = (pods: V1Pod[]): PodInfo[] => pods.map((p) => this.podInfo(p)).filter((p): p is PodInfo => !!p);
    return {
      podsIn: (ns) => infos(stores.pods.byIndex(POD_BY_NAMESPACE, ns)),
      namespaces: () => stores.namespaces.list().map((n) => ({ name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {} })),
      podsWithPortName: (name) => infos(stores.pods.byIndex(POD_BY_PORT_NAME, name)),
    };
  }

  /** A queue key: a policy (translated in full) or `<policy> pods` (its pending pod events). */
  sync(queueKey: string): Promise<void> {
    const pods = queueKey.endsWith(POD_SUFFIX);
    const key = pods ? queueKey.slice(0, -POD_SUFFIX.length) : queueKey;
    return this.serial(key, () => (pods ? this.podSync(key) : this.fullSync(key)));
  }

  private serial(key: string, fn: () => Promise<void>): Promise<void> {
    const run = (this.chains.get(key) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => {});
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return run;
  }

  private async fullSync(key: string): Promise<void> {
    const policy = this.ctx.stores.policies.get(key);
    if (!policy) return this.remove(key);
    await this.ensure(key, policy);
  }

  /** Applies the pending pod events of a policy whose model is current; anything else is a full sync. */
  private async podSync(key: string): Promise<void> {
    const pods = this.pending.get(key);
    this.pending.delete(key);
    const policy = this.ctx.stores.policies.get(key);
    const model = this.models.get(key);
    if (!policy || !model || model.policy !== policy) return this.fullSync(key);
    if (!pods?.size) return;
    const { ctx } = this;
    const txn = new Txn(ctx.nb.cache, `networkpolicy ${key} pods`);
    const ns = policy.metadata?.namespace ?? 'default';
    const pg = policyPortGroup(key);
    const podSelector = policy.spec?.podSelector ?? {};
    const pgRow = ctx.nb.cache.lookup('Port_Group', 'name', pg);
    /** Addresses to compare with NB once every pod is applied (two pods of the batch may share one). */
    const touched = new Map<string, Set<string>>();
    for (const podKey of pods) {
      const pod = ctx.stores.pods.get(podKey);
      const info = pod ? this.podInfo(pod) : undefined;
      const podNs = podKey.slice(0, podKey.indexOf('/'));
      const nsObj = ctx.stores.namespaces.get(podNs);
      for (const ch of model.applyPod(podKey, info, nsObj ? (nsObj.metadata?.labels ?? {}) : undefined)) {
        let t = touched.get(ch.name);
        if (!t) touched.set(ch.name, (t = new Set()));
        for (const ip of ch.touched) t.add(ip);
      }
      if (podNs !== ns || !pgRow) continue;
      // The port group holds the LSPs of the selected pods that have an address (translatePolicy's `selected`).
      const lsp = ctx.nb.cache.lookup('Logical_Switch_Port', 'name', podPort(ns, podKey.slice(ns.length + 1)));
      if (!lsp) continue;
      const selected = !!info && matchesSelector(podSelector, info.labels);
      const member = pgRow.ports.includes(lsp._uuid);
      if (selected && !member) portGroupAddPorts(txn, pg, [lsp._uuid]);
      if (!selected && member) portGroupRemovePorts(txn, pg, [lsp._uuid]);
    }
    for (const [name, ips] of touched) {
      const have = ctx.nb.cache.lookup('Address_Set', 'name', name)?.addresses ?? [];
      const add = [...ips].filter((ip) => model.holds(name, ip) && !have.includes(ip));
      const del = [...ips].filter((ip) => !model.holds(name, ip) && have.includes(ip));
      if (add.length) addressSetAdd(txn, name, add);
      if (del.length) addressSetRemove(txn, name, del);
    }
    if (!txn.ops.length) return;
    try {
      await commit(ctx.nb, txn);
    } catch (err) {
      // What NB holds is unknown now: the retry translates in full.
      this.models.delete(key);
      throw err;
    }
  }

  private async ensure(key: string, policy: V1NetworkPolicy): Promise<void> {
    const { ctx } = this;
    let plan;
    try {
      plan = translatePolicy(policy, this.view(), { family: ctx.config.clusterCidr.family });
      this.lastError.delete(key);
    } catch (err) {
      if (!(err instanceof PolicyError || err instanceof SelectorError)) throw err;
      this.models.delete(key);
      // Invalid policy: report once per distinct error; never guess what was meant.
      if (this.lastError.get(key) !== err.message) {
        this.lastError.set(key, err.message);
        ctx.log.warn(err.message);
        await ctx.kube.event({ kind: 'NetworkPolicy', namespace: policy.metadata?.namespace, name: policy.metadata?.name ?? '', uid: policy.metadata?.uid }, 'Warning', 'InvalidNetworkPolicy', err.message).catch(() => {});
      }
      return;
    }
    if (plan.watchesAllNamespaces || this.clusterWide.has(key)) this.crossIndex.clear();
    if (plan.watchesAllNamespaces) this.clusterWide.add(key);
    else this.clusterWide.delete(key);
    const ids = ownerIds('network-policy', key);
    const txn = new Txn(ctx.nb.cache, `networkpolicy ${key}`);
    const wantSets = new Set(plan.addressSets.map((a) => a.name));
    for (const as of plan.addressSets) ensureAddressSet(txn, as.name, as.addresses, ids);
    for (const as of ctx.nb.cache.list('Address_Set')) {
      if (ownedBy(as.external_ids, 'network-policy') === key && !wantSets.has(as.name)) deleteAddressSet(txn, as.name);
    }
    const ports: string[] = [];
    for (const p of plan.selected) {
      const lsp = ctx.nb.cache.lookup('Logical_Switch_Port', 'name', podPort(p.namespace, p.name));
      if (lsp) ports.push(lsp._uuid);
    }
    const acls = plan.acls.map((a) => ({ ...a, external_ids: { ...ids, ...a.external_ids } }));
    ensurePortGroup(txn, { name: plan.portGroup, ports, acls, external_ids: ids });
    // Pod events from here on apply to this plan; ones still pending are re-applied (idempotent).
    const model = PolicyModel.from(policy, plan);
    if (model) this.models.set(key, model);
    else this.models.delete(key);
    try {
      await commit(ctx.nb, txn);
    } catch (err) {
      this.models.delete(key);
      throw err;
    }
  }

  private async remove(key: string): Promise<void> {
    const { ctx } = this;
    if (this.clusterWide.delete(key)) this.crossIndex.clear();
    this.lastError.delete(key);
    this.models.delete(key);
    this.pending.delete(key);
    const txn = new Txn(ctx.nb.cache, `networkpolicy ${key} delete`);
    deletePortGroup(txn, policyPortGroup(key));
    for (const pg of ctx.nb.cache.list('Port_Group')) if (ownedBy(pg.external_ids, 'network-policy') === key && pg.name !== policyPortGroup(key)) deletePortGroup(txn, pg.name);
    for (const as of ctx.nb.cache.list('Address_Set')) if (ownedBy(as.external_ids, 'network-policy') === key) deleteAddressSet(txn, as.name);
    await commit(ctx.nb, txn);
  }
}
