// The Vpc/Subnet controller's attachment to the watcher: placement for the pod controller, pods re-queued when
// a Subnet starts being served, Namespace annotation changes re-placing that Namespace's pods.
import type { V1Namespace } from '@kubernetes/client-node';
import { KUBEOVN_SWITCH_ANNOTATION } from '../../lib/kube/annotations.js';
import type { WatcherContext } from '../context.js';
import { keyOf, POD_BY_NAMESPACE } from '../kube-view.js';
import type { WorkQueue } from '../../lib/workqueue.js';
import { VpcController } from './controller.js';
import type { VpcApi } from './kube.js';
import { placePod } from './placement.js';
import { forwards } from './next-hops.js';
import { ExternalVpcs } from './external.js';

export { VpcKube, type VpcApi } from './kube.js';
export { VpcController } from './controller.js';

export function attachVpc(ctx: WatcherContext, api: VpcApi, pods: WorkQueue, services?: WorkQueue): VpcController {
  const vpc = new VpcController(ctx, api);
  vpc.external = new ExternalVpcs(ctx.nb.cache, api, ctx.log, (plural, name) => vpc.changed(plural, name));
  // A watch that restarted may have missed anything: converge every Vpc and Subnet, as the periodic pass does.
  api.onRelist = (plural) => vpc.relisted(plural);
  const view = {
    vpcs: api.vpcs,
    subnets: api.subnets,
    namespaceAnnotation: (ns: string) => ctx.stores.namespaces.get(ns)?.metadata?.annotations?.[KUBEOVN_SWITCH_ANNOTATION],
  };
  ctx.placement = (pod) => {
    const p = placePod(pod, view);
    // A Subnet that exists but is not served yet (or refused) is waited for, not refused to the pod.
    return p.requested && api.subnets.get(p.ls) ? { ls: p.ls, requested: false } : p;
  };
  ctx.forwards = (ls, ip) => forwards(ls, ip, (s) => vpc.servedSubnet(s)?.vpc, (n) => api.vpcs.get(n));
  // A Vpc's next hops changed: pods get their port security again.
  vpc.onNextHopsChanged = () => {
    for (const p of ctx.stores.pods.list()) pods.add(keyOf(p));
  };
  vpc.onSubnetReady = () => {
    for (const p of ctx.stores.pods.list()) if (!ctx.ipam.holding(keyOf(p))) pods.add(keyOf(p));
    // A Service served inside a custom Vpc hangs on every Subnet switch of it (controllers/service-vpc.ts).
    for (const s of ctx.stores.services.list()) services?.add(keyOf(s));
  };
  return vpc;
}

/** A Namespace's logical_switch annotation changed: its pods are placed again. */
export function namespaceSwitchChanged(ctx: WatcherContext, ns: V1Namespace, old: V1Namespace | undefined, pods: WorkQueue): void {
  const ann = (n: V1Namespace | undefined) => n?.metadata?.annotations?.[KUBEOVN_SWITCH_ANNOTATION];
  if (ann(ns) === ann(old)) return;
  for (const p of ctx.stores.pods.byIndex(POD_BY_NAMESPACE, ns.metadata?.name ?? '')) pods.add(keyOf(p));
}
