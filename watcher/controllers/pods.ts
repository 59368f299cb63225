// Pod controller: pods → logical switch ports. IPAM from the node subnet (or a Kube-OVN style request),
// MAC from the IP, addresses + port_security, then the tessera.io/pod-networks annotation. NB is written
// before the annotation, and IPAM is rebuilt from both, so a crash between the two leaks nothing.
// Routes: the pod's default route is via its gateway (.1), which already covers the service CIDR,
// so the annotation carries no extra routes.
import type { V1Pod } from '@kubernetes/client-node';
import { macFromIPv4, nodeSwitch, podPort } from '../../lib/names.js';
import {
  POD_NETWORKS_ANNOTATION, DEFAULT_NETWORK, KUBEOVN_IP_ANNOTATION, KUBEOVN_MAC_ANNOTATION, KUBEOVN_SWITCH_ANNOTATION,
  parsePodNetworks, type PodNetwork,
} from '../../lib/kube/annotations.js';
import { formatIP, parseInterfaceAddress, parseIP, withPrefix, type IPAddr } from '../../lib/ipnet/index.js';
import type { WatcherContext } from '../context.js';
import { keyOf, splitKey, type ObjectRef } from '../kube-view.js';
import { Txn } from '../nbops/txn.js';
import { commit } from '../nbops/commit.js';
import { createOrUpdatePort, deletePort } from '../nbops/lsp.js';
import { ownerIds, ownedBy } from '../nbops/owner.js';
import { AddressConflictError } from '../ipam/pod-ipam.js';
import { classify, PodProblems, PodRequestError, REASON } from './pod-problems.js';

export const POD_UID_KEY = 'tessera.io/pod-uid';
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Pods that should have no port: host network, finished. Unscheduled pods simply wait. */
export function wantsPort(pod: V1Pod): boolean {
  if (pod.spec?.hostNetwork) return false;
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/** The default network of a pod annotation, if it parses. */
export function podNetworkOf(pod: V1Pod): PodNetwork | undefined {
  try {
    return parsePodNetworks(pod.metadata?.annotations?.[POD_NETWORKS_ANNOTATION])?.[DEFAULT_NETWORK];
  } catch {
    return undefined;
  }
}

/** The IP written in a port's `addresses` ("MAC IP ..."). */
export function portIP(addresses: string[]): string | undefined {
  return addresses[0]?.split(/\s+/)[1];
}

/** What ensure() decides from, besides the pod-networks annotation itself: if none of it changed, nor did the outcome. */
function syncInputs(pod: V1Pod): string {
  const ann = pod.metadata?.annotations ?? {};
  return JSON.stringify([pod.metadata?.uid, pod.spec?.nodeName, pod.spec?.hostNetwork, pod.status?.phase, ann[KUBEOVN_IP_ANNOTATION], ann[KUBEOVN_MAC_ANNOTATION], ann[KUBEOVN_SWITCH_ANNOTATION]]);
}

/** macFromIPv4 for IPv4; for IPv6 the same 0a:58 prefix over the address's last four bytes. */
export function macFromIP(ip: IPAddr): string {
  if (ip.family === 4) return macFromIPv4(formatIP(ip));
  const b = [24n, 16n, 8n, 0n].map((sh) => Number((ip.value >> sh) & 255n).toString(16).padStart(2, '0'));
  return ['0a', '58', ...b].join(':');
}

export class PodController {
  /** Called after a pod's port or address changed or went away (policy routing). */
  onPodChanged: (key: string, namespace: string) => void = () => {};
  /** Latency figures: the pod's port is committed to NB ('nb'), its annotation accepted ('annotated'). */
  onProgress: (key: string, stage: 'nb' | 'annotated') => void = () => {};

  /** Events and the pod-network-error annotation, once per distinct problem per pod. */
  private readonly problems: PodProblems;
  /** The pod-networks annotation this controller last wrote per pod, to know its own write coming back. */
  private readonly written = new Map<string, string>();

  constructor(private readonly ctx: WatcherContext) {
    this.problems = new PodProblems(ctx);
  }

  /**
   * Rebuilds pod IPAM: first what pods were told (annotations), then what NB holds for pods that have
   * no annotation yet (the watcher died between the NB write and the annotation).
   */
  rebuild(): void {
    const { ctx } = this;
    for (const pod of ctx.stores.pods.list()) {
      if (!wantsPort(pod)) continue;
      const net = podNetworkOf(pod);
      const addr = net?.ip_addresses[0];
      if (!net || !addr) continue;
      try {
        ctx.ipam.reserve(net.logical_switch, parseInterfaceAddress(addr).address, keyOf(pod));
      } catch (err) {
        ctx.log.warn(`pod ${keyOf(pod)}: annotated address ${addr} not rebuilt: ${(err as Error).message}`);
      }
    }
    for (const ls of ctx.nb.cache.list('Logical_Switch')) {
      if (!ctx.ipam.forSwitch(ls.name)) continue;
      for (const uuid of ls.ports) {
        const lsp = ctx.nb.cache.get('Logical_Switch_Port', uuid);
        const owner = lsp && ownedBy(lsp.external_ids, 'pod');
        const ip = lsp && portIP(lsp.addresses);
        if (!owner || !ip || ctx.ipam.holding(owner)) continue;
        try {
          ctx.ipam.reserve(ls.name, ip, owner);
        } catch (err) {
          // Another pod holds it by annotation: this port is stale and sync will replace it.
          ctx.log.warn(`port ${lsp.name}: address ${ip} not rebuilt: ${(err as Error).message}`);
        }
      }
    }
  }

  /** Pod keys with a port of ours but no pod (or one that wants none), for reconcile. */
  staleKeys(): string[] {
    const out: string[] = [];
    for (const lsp of this.ctx.nb.cache.list('Logical_Switch_Port')) {
      const owner = ownedBy(lsp.external_ids, 'pod');
      if (!owner) continue;
      const pod = this.ctx.stores.pods.get(owner);
      if (!pod || !wantsPort(pod) || podPort(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '') !== lsp.name) out.push(owner);
    }
    return out;
  }

  /**
   * True when an update only brings back the annotation this controller wrote: syncing it would find
   * everything in place, and during a burst that second sync per pod costs CPU the next pods need.
   */
  isOwnEcho(pod: V1Pod, old: V1Pod | undefined): boolean {
    if (!old) return false;
    const ann = pod.metadata?.annotations?.[POD_NETWORKS_ANNOTATION];
    return ann !== undefined && ann === this.written.get(keyOf(pod)) && syncInputs(pod) === syncInputs(old);
  }

  async sync(key: string): Promise<void> {
    const pod = this.ctx.stores.pods.get(key);
    if (!pod || !wantsPort(pod)) return this.teardown(key);
    if (!pod.spec?.nodeName) return; // not scheduled yet; the update that schedules it comes back here
    try {
      await this.ensure(key, pod);
    } catch (err) {
      // Tell the user once per distinct problem. A bad request is not retried in a loop (the pod's next update,
      // or the conflicting pod going away, brings it back here); exhaustion and NB failures are.
      const problem = classify(err);
      if (!problem) throw err;
      await this.problems.report(key, pod, problem);
      if (problem.retry) throw err;
      return;
    }
    await this.problems.resolved(key, pod);
  }

  private ref(pod: V1Pod): ObjectRef {
    return { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? '', uid: pod.metadata?.uid };
  }

  private async ensure(key: string, pod: V1Pod): Promise<void> {
    const { ctx } = this;
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const ann = pod.metadata?.annotations ?? {};
    const requestedLs = ann[KUBEOVN_SWITCH_ANNOTATION];
    const ls = requestedLs || nodeSwitch(pod.spec!.nodeName!);
    const sipam = ctx.ipam.forSwitch(ls);
    if (!sipam) {
      if (requestedLs && !ctx.stores.nodes.get(requestedLs)) {
        throw new PodRequestError(`${KUBEOVN_SWITCH_ANNOTATION}="${requestedLs}" is not a logical switch Tessera manages`, REASON.subnetNotFound);
      }
      return; // the node's switch is not there yet: NodeController.onNodeReady re-enqueues this pod
    }
    const current = podNetworkOf(pod);
    let desired: IPAddr | undefined;
    if (current && current.logical_switch === ls && current.ip_addresses[0]) {
      desired = parseInterfaceAddress(current.ip_addresses[0]).address;
    } else if (ann[KUBEOVN_IP_ANNOTATION]) {
      const text = ann[KUBEOVN_IP_ANNOTATION].split(',')[0].trim().replace(/\/\d+$/, '');
      try {
        desired = parseIP(text);
      } catch {
        throw new PodRequestError(`${KUBEOVN_IP_ANNOTATION}="${ann[KUBEOVN_IP_ANNOTATION]}" is not an IP address`);
      }
    }
    const held = ctx.ipam.holding(key);
    const moved = held && held.ls !== ls ? held.ls : undefined;
    let ip: IPAddr;
    if (desired) {
      if (held && held.ls === ls && formatIP(held.ip) !== formatIP(desired)) ctx.ipam.releaseOn(ls, key);
      try {
        ip = ctx.ipam.reserve(ls, desired, key);
      } catch (err) {
        if (err instanceof AddressConflictError) throw new PodRequestError(`requested address ${formatIP(desired)} refused: ${err.message}`);
        throw err;
      }
    } else {
      ip = held && held.ls === ls ? held.ip : ctx.ipam.allocate(ls, key);
    }
    const ipText = formatIP(ip);
    let mac = macFromIP(ip);
    const reqMac = ann[KUBEOVN_MAC_ANNOTATION]?.toLowerCase();
    if (current?.mac_address && current.logical_switch === ls) mac = current.mac_address;
    else if (reqMac) {
      if (!MAC_RE.test(reqMac)) throw new PodRequestError(`${KUBEOVN_MAC_ANNOTATION}="${ann[KUBEOVN_MAC_ANNOTATION]}" is not a MAC address`);
      mac = reqMac;
    }
    const txn = new Txn(ctx.nb.cache, `pod ${key}`);
    createOrUpdatePort(txn, ls, {
      name: podPort(ns, name),
      addresses: [`${mac} ${ipText}`],
      port_security: [`${mac} ${ipText}`],
      external_ids: ownerIds('pod', key, { namespace: ns, pod: name, [POD_UID_KEY]: pod.metadata?.uid ?? '' }),
    });
    await commit(ctx.nb, txn);
    this.onProgress(key, 'nb');
    if (moved) ctx.ipam.releaseOn(moved, key); // the old port went in the same transaction
    const net: PodNetwork = {
      ip_addresses: [withPrefix(ip, sipam.subnet.prefix)],
      mac_address: mac,
      gateway_ips: [formatIP(sipam.gateway)],
      routes: [],
      logical_switch: ls,
    };
    const want = JSON.stringify({ [DEFAULT_NETWORK]: net });
    if (ann[POD_NETWORKS_ANNOTATION] !== want) {
      await ctx.kube.annotate(this.ref(pod), { [POD_NETWORKS_ANNOTATION]: want });
      this.written.set(key, want);
      this.onProgress(key, 'annotated');
    }
    // Policies learn about a new or changed address from the annotation's own watch event (by then the
    // pod store and the NB cache both have it), not from here.
  }

  private async teardown(key: string): Promise<void> {
    const { ctx } = this;
    this.problems.forget(key);
    this.written.delete(key);
    const { namespace = 'default', name } = splitKey(key);
    const txn = new Txn(ctx.nb.cache, `pod ${key} delete`);
    const lsp = ctx.nb.cache.lookup('Logical_Switch_Port', 'name', podPort(namespace, name));
    if (lsp && ownedBy(lsp.external_ids, 'pod') === key) deletePort(txn, lsp.name);
    else if (lsp) ctx.log.warn(`port ${lsp.name} is not Tessera's port for pod ${key}; left alone`);
    await commit(ctx.nb, txn);
    // The port is gone: only now may the address go back to the pool.
    const had = ctx.ipam.holding(key);
    ctx.ipam.release(key);
    if (had || !txn.empty) this.onPodChanged(key, namespace);
  }
}
