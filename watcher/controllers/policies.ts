// NetworkPolicy controller: converges each policy's port group, address sets and ACLs to
// translatePolicy()'s plan. Pod and namespace changes re-enqueue only the policies they can affect:
// of the policies of the pod's namespace and those with namespaceSelector peers (or cluster-wide named
// ports), only the ones that select the pod or have it as a peer (podInterest); no pod event re-translates
// the policies it cannot change.
import type { V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { podPort } from '../../lib/ovn/names.js';
import type { WatcherContext } from '../context.js';
import { POD_BY_NAMESPACE, POD_BY_PORT_NAME, POLICY_BY_NAMESPACE, keyOf } from '../kube-view.js';
import { Txn } from '../../lib/ovn/txn.js';
import { commit } from '../../lib/ovn/commit.js';
import { ensureAddressSet, deleteAddressSet } from '../../lib/ovn/address-set.js';
import { ensurePortGroup, deletePortGroup } from '../../lib/ovn/port-group.js';
import { ownerIds, ownedBy } from '../../lib/ovn/names.js';
import { translatePolicy, podInterest, policyPortGroup, PolicyError, type PodInterest, type PodInfo, type PolicyView } from '../policy/translate.js';
import { SelectorError } from '../policy/selector.js';
import { podIPs, wantsPort } from './pods.js';

export class PolicyController {
  /** Policies whose plan depends on pods/namespaces beyond their own namespace. */
  private readonly clusterWide = new Set<string>();
  /** Which pods can change each policy (per policy object: objects are replaced on change). */
  private readonly interest = new WeakMap<V1NetworkPolicy, PodInterest>();
  /**
   * What policies need of each pod version. Informer objects are replaced on every change, never edited in
   * place, so one parse of the annotation serves every policy that looks at the pod until it changes.
   */
  private readonly infos = new WeakMap<V1Pod, PodInfo | null>();
  private readonly lastError = new Map<string, string>();

  constructor(private readonly ctx: WatcherContext, private readonly enqueue: (key: string) => void) {}

  /**
   * A pod changed (labels, address, port): re-evaluate the policies it can affect. `podLabels` are the
   * pod's labels before and after (either may be undefined: a pod we no longer know; then every policy
   * of the namespace and every cross-namespace one is re-evaluated).
   */
  podChanged(namespace: string, podLabels?: Array<Record<string, string> | undefined>): void {
    const { stores } = this.ctx;
    const nsLabels = stores.namespaces.get(namespace)?.metadata?.labels ?? {};
    const known = podLabels?.length && podLabels.every((l) => l !== undefined);
    const affects = (p: V1NetworkPolicy): boolean => {
      if (!known) return true;
      let f = this.interest.get(p);
      if (!f) this.interest.set(p, (f = podInterest(p)));
      return podLabels!.some((l) => f!(namespace, nsLabels, l!));
    };
    for (const p of stores.policies.byIndex(POLICY_BY_NAMESPACE, namespace)) if (affects(p)) this.enqueue(keyOf(p));
    for (const k of this.clusterWide) {
      const p = stores.policies.get(k);
      if (!p || affects(p)) this.enqueue(k);
    }
  }

  /** A namespace's labels changed (or it came or went): its selectors may match the old labels or the new. */
  namespaceChanged(namespace: string): void {
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

  async sync(key: string): Promise<void> {
    const policy = this.ctx.stores.policies.get(key);
    if (!policy) return this.remove(key);
    await this.ensure(key, policy);
  }

  private async ensure(key: string, policy: V1NetworkPolicy): Promise<void> {
    const { ctx } = this;
    let plan;
    try {
      plan = translatePolicy(policy, this.view(), { family: ctx.config.clusterCidr.family });
      this.lastError.delete(key);
    } catch (err) {
      if (!(err instanceof PolicyError || err instanceof SelectorError)) throw err;
      // Invalid policy: report once per distinct error; never guess what was meant.
      if (this.lastError.get(key) !== err.message) {
        this.lastError.set(key, err.message);
        ctx.log.warn(err.message);
        await ctx.kube.event({ kind: 'NetworkPolicy', namespace: policy.metadata?.namespace, name: policy.metadata?.name ?? '', uid: policy.metadata?.uid }, 'Warning', 'InvalidNetworkPolicy', err.message).catch(() => {});
      }
      return;
    }
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
    await commit(ctx.nb, txn);
  }

  private async remove(key: string): Promise<void> {
    const { ctx } = this;
    this.clusterWide.delete(key);
    this.lastError.delete(key);
    const txn = new Txn(ctx.nb.cache, `networkpolicy ${key} delete`);
    deletePortGroup(txn, policyPortGroup(key));
    for (const pg of ctx.nb.cache.list('Port_Group')) if (ownedBy(pg.external_ids, 'network-policy') === key && pg.name !== policyPortGroup(key)) deletePortGroup(txn, pg.name);
    for (const as of ctx.nb.cache.list('Address_Set')) if (ownedBy(as.external_ids, 'network-policy') === key) deleteAddressSet(txn, as.name);
    await commit(ctx.nb, txn);
  }
}
