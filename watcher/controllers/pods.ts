// Pod controller: pods → logical switch ports. The address comes from the watcher's own IPAM: the one
// the pod holds, else a validated Kube-OVN request, else the next free one; the MAC is derived from the
// IP unless a validated request or the pod's own port says otherwise. addresses + port_security are
// exactly "<mac> <ip>", then the tessera.io/pod-networks annotation is written from the same values.
// Nothing is read back from that annotation: anyone allowed to patch a pod can write it, so a value
// that differs is overwritten (with a Warning Event). NB is written before the annotation, and IPAM is
// rebuilt from NB (ipam/rebuild.ts), so a crash between the two leaks nothing.
// Routes: the pod's default route is via its gateway (.1), which already covers the service CIDR,
// so the annotation carries no extra routes.
import type { V1Pod } from '@kubernetes/client-node';
import { macFromIPv4, nodeSwitch, podPort } from '../../lib/ovn/names.js';
import {
  POD_NETWORKS_ANNOTATION, DEFAULT_NETWORK, KUBEOVN_IP_ANNOTATION, KUBEOVN_MAC_ANNOTATION, KUBEOVN_SWITCH_ANNOTATION,
  type PodNetwork,
} from '../../lib/kube/annotations.js';
import { formatIP, withPrefix, type IPAddr } from '../../lib/ipnet/index.js';
import type { WatcherContext } from '../context.js';
import { keyOf, splitKey } from '../kube-view.js';
import { Txn, type NbRow } from '../../lib/ovn/txn.js';
import { commit } from '../../lib/ovn/commit.js';
import { createOrUpdatePort, deletePort } from '../../lib/ovn/lsp.js';
import { ownerIds, ownedBy } from '../../lib/ovn/names.js';
import { DERIVED_MAC_PREFIX, RequestRefusedError, checkRequestedIP, macProblem, requestedIP, requestedMac } from '../ipam/requests.js';
import { rebuildPodAddresses, type PortClaim } from '../ipam/rebuild.js';
import { classify, PodProblems, podRef, REASON } from './pod-problems.js';
import { ChildPorts, type ChildPlacement } from '../nested/child-ports.js';
import { VlanTagsExhaustedError } from '../nested/vlan-tags.js';
import { PortUp } from '../nested/port-up.js';

export const POD_UID_KEY = 'tessera.io/pod-uid';
export const ANNOTATION_RESTORED = 'PodNetworksAnnotationRestored';

/** Pods that should have no port: host network, finished. Unscheduled pods simply wait. */
export function wantsPort(pod: V1Pod): boolean {
  if (pod.spec?.hostNetwork) return false;
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/** The IP written in a port's `addresses` ("MAC IP ..."). */
export function portIP(addresses: string[]): string | undefined {
  return addresses[0]?.split(/\s+/)[1];
}

/** The pod's port, if it is ours and made for this pod's key. */
export function ownPort(ctx: WatcherContext, pod: V1Pod): NbRow<'Logical_Switch_Port'> | undefined {
  const lsp = ctx.nb.cache.lookup('Logical_Switch_Port', 'name', podPort(pod.metadata?.namespace ?? '', pod.metadata?.name ?? ''));
  return lsp && ownedBy(lsp.external_ids, 'pod') === keyOf(pod) ? lsp : undefined;
}

/** The pod's addresses as committed to its NB port (what policies match on), not as its annotation claims. */
export function podIPs(ctx: WatcherContext, pod: V1Pod): string[] | undefined {
  const lsp = ownPort(ctx, pod);
  const ip = lsp && portIP(lsp.addresses);
  return ip ? [ip] : undefined;
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

/** Where a pod's port goes and what it carries; `moved` is the switch it leaves. */
interface Placement {
  ls: string;
  ip: IPAddr;
  mac: string;
  moved?: string;
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
  /** Requested MACs handed out (switch + MAC → pod key), so two pods asking at once cannot both get one. */
  private readonly macs = new Map<string, string>();

  /** Child ports of pods on nested nodes (parent port + VLAN tag) and their tessera.io/port-up. */
  readonly children: ChildPorts;
  readonly portUp: PortUp;

  constructor(private readonly ctx: WatcherContext) {
    this.problems = new PodProblems(ctx);
    this.children = new ChildPorts(ctx, ctx.config.nestedVlanRange);
    this.portUp = new PortUp(ctx);
  }

  /** Rebuilds pod IPAM (and requested MACs) from the ports this watcher committed to NB; see ipam/rebuild.ts. */
  rebuild(): void {
    const { ctx } = this;
    const claims: PortClaim[] = [];
    const macOf = new Map<PortClaim, string>();
    for (const ls of ctx.nb.cache.list('Logical_Switch')) {
      if (!ctx.ipam.forSwitch(ls.name)) continue;
      for (const uuid of ls.ports) {
        const lsp = ctx.nb.cache.get('Logical_Switch_Port', uuid);
        const owner = lsp && ownedBy(lsp.external_ids, 'pod');
        const ip = lsp && portIP(lsp.addresses);
        if (!owner || !ip) continue;
        const c: PortClaim = { owner, ls: ls.name, port: lsp.name, ip, uid: lsp.external_ids[POD_UID_KEY] || undefined };
        claims.push(c);
        macOf.set(c, lsp.addresses[0].split(/\s+/)[0].toLowerCase());
      }
    }
    const podOf = (owner: string) => {
      const pod = ctx.stores.pods.get(owner);
      return pod && wantsPort(pod) ? { uid: pod.metadata?.uid, creationTimestamp: pod.metadata?.creationTimestamp } : undefined;
    };
    const lost = new Set<PortClaim>();
    for (const { claim, reason } of rebuildPodAddresses(ctx.ipam, claims, podOf)) {
      lost.add(claim);
      ctx.log.warn(`port ${claim.port}: address ${claim.ip} not rebuilt (${reason}); its pod gets another`);
    }
    // Requested (non-derived) MACs of the ports that keep their address stay taken on their switch.
    for (const c of claims) {
      const mac = macOf.get(c)!;
      if (!lost.has(c) && !mac.startsWith(DERIVED_MAC_PREFIX)) this.macs.set(`${c.ls} ${mac}`, c.owner);
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
   * Any other annotation value (someone else's write, or anything after a restart) is synced.
   */
  isOwnEcho(pod: V1Pod, old: V1Pod | undefined): boolean {
    if (!old) return false;
    const ann = pod.metadata?.annotations?.[POD_NETWORKS_ANNOTATION];
    return ann !== undefined && ann === this.written.get(keyOf(pod)) && syncInputs(pod) === syncInputs(old);
  }

  async sync(key: string): Promise<void> {
    const pod = this.ctx.stores.pods.get(key);
    if (!pod || !wantsPort(pod) || this.ctx.podNetworkElsewhere?.(pod)) return this.teardown(key);
    if (!pod.spec?.nodeName) return; // not scheduled yet; the update that schedules it comes back here
    let kept: string | undefined;
    try {
      kept = await this.ensure(key, pod);
    } catch (err) {
      // Tell the user once per distinct problem. A refused request is not retried in a loop (the pod's next
      // update, or the conflicting pod going away, brings it back here); exhaustion and NB failures are.
      const problem = classify(err);
      if (!problem) throw err;
      if (err instanceof RequestRefusedError) await this.withdraw(key, pod);
      await this.problems.report(key, pod, problem);
      if (problem.retry) throw err;
      return;
    }
    if (kept === undefined) await this.problems.resolved(key, pod);
    // A refused request the pod kept its address despite: it has a network, so no pod-network-error.
    else await this.problems.report(key, pod, { reason: REASON.addressRequestRefused, message: kept, allocation: false, retry: false });
  }

  /** Commits the pod's port and writes its annotation; returns a refused request the pod kept its address despite. */
  private async ensure(key: string, pod: V1Pod): Promise<string | undefined> {
    const { ctx } = this;
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const placed = this.place(key, pod);
    if (!placed) return undefined; // the node's switch is not there yet: NodeController.onNodeReady re-enqueues this pod
    const { at, refused } = placed;
    const ipText = formatIP(at.ip);
    const child = await this.childPlacement(pod, podPort(ns, name));
    const txn = new Txn(ctx.nb.cache, `pod ${key}`);
    createOrUpdatePort(txn, at.ls, {
      ...(child ? { parent_name: child.parent, tag: child.tag } : {}),
      name: podPort(ns, name),
      addresses: [`${at.mac} ${ipText}`],
      // A next hop its Vpc's routes name forwards others' packets: MAC-only port security (watcher/vpc/next-hops.ts).
      port_security: [ctx.forwards?.(at.ls, ipText) ? at.mac : `${at.mac} ${ipText}`],
      external_ids: ownerIds('pod', key, { namespace: ns, pod: name, [POD_UID_KEY]: pod.metadata?.uid ?? '' }),
    });
    await commit(ctx.nb, txn);
    this.onProgress(key, 'nb');
    if (at.moved) this.leaveSwitch(at.moved, key); // the old port went in the same transaction
    const sipam = ctx.ipam.forSwitch(at.ls)!;
    const net: PodNetwork = {
      ip_addresses: [withPrefix(at.ip, sipam.subnet.prefix)],
      mac_address: at.mac,
      gateway_ips: [formatIP(sipam.gateway)],
      routes: [],
      logical_switch: at.ls,
      ...(child ? { vlan: child.tag } : {}),
    };
    const want = JSON.stringify({ [DEFAULT_NETWORK]: net });
    const have = pod.metadata?.annotations?.[POD_NETWORKS_ANNOTATION];
    if (have !== want) {
      await ctx.kube.annotate(podRef(pod), { [POD_NETWORKS_ANNOTATION]: want });
      const mine = this.written.get(key);
      this.written.set(key, want);
      this.onProgress(key, 'annotated');
      if (have !== undefined && have !== mine) {
        const msg = `${POD_NETWORKS_ANNOTATION} did not match the network Tessera allocated to this pod; set back to ${ipText} (MAC ${at.mac}) on ${at.ls}`;
        ctx.log.warn(`pod ${key}: ${msg}`);
        await ctx.kube.event(podRef(pod), 'Warning', ANNOTATION_RESTORED, msg).catch(() => {});
      }
    }
    if (child) await this.portUp.syncPod(key);
    // Policies learn about a new or changed address from the annotation's own watch event (by then the
    // pod store and the NB cache both have it), not from here.
    return refused;
  }

  /**
   * Where the pod's port goes: the address it holds stays; otherwise a validated request, else the next
   * free address. A refused request throws RequestRefusedError when the pod holds no address, and is
   * returned as `refused` when it keeps the one it has. Undefined while the switch is not there yet.
   */
  private place(key: string, pod: V1Pod): { at: Placement; refused?: string } | undefined {
    const { ctx } = this;
    const own = pod.metadata?.annotations?.[KUBEOVN_SWITCH_ANNOTATION];
    const chosen = ctx.placement?.(pod) ?? { ls: own || nodeSwitch(pod.spec!.nodeName!), requested: !!own };
    const requestedLs = chosen.requested ? chosen.ls : undefined;
    const ls = chosen.ls;
    const held = ctx.ipam.holding(key);
    let refused: string | undefined;
    if (!ctx.ipam.forSwitch(ls)) {
      if (!requestedLs || ctx.stores.nodes.get(requestedLs)) return undefined;
      refused = `${KUBEOVN_SWITCH_ANNOTATION}="${requestedLs}" is not a logical switch Tessera manages`;
      if (!held) throw new RequestRefusedError(refused, REASON.subnetNotFound);
    } else if (!held || held.ls !== ls) {
      try {
        return { at: this.claim(key, pod, ls, held?.ls) };
      } catch (err) {
        if (!(err instanceof RequestRefusedError) || !held) throw err;
        refused = err.message;
      }
    }
    const h = held!;
    return { at: { ls: h.ls, ip: h.ip, mac: this.keptMac(key, pod, h.ls, h.ip) }, refused };
  }

  /** A new address on `ls`: as requested (validated) or the next free one; MAC as requested or derived. */
  private claim(key: string, pod: V1Pod, ls: string, from: string | undefined): Placement {
    const { ctx } = this;
    const ann = pod.metadata?.annotations ?? {};
    const port = podPort(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
    const mac = ann[KUBEOVN_MAC_ANNOTATION]
      ? requestedMac(KUBEOVN_MAC_ANNOTATION, ann[KUBEOVN_MAC_ANNOTATION], (m) => this.macUser(ls, m, key, port))
      : undefined;
    let ip: IPAddr;
    if (ann[KUBEOVN_IP_ANNOTATION]) {
      const want = requestedIP(KUBEOVN_IP_ANNOTATION, ann[KUBEOVN_IP_ANNOTATION]);
      checkRequestedIP(ctx.ipam.forSwitch(ls)!, want, key);
      ip = ctx.ipam.reserve(ls, want, key);
    } else {
      ip = ctx.ipam.allocate(ls, key);
    }
    if (mac) this.macs.set(`${ls} ${mac}`, key);
    return { ls, ip, mac: mac ?? macFromIP(ip), moved: from };
  }

  /**
   * The MAC for an address the pod keeps: its own port's when that port carries `ip` for this pod; else
   * (the port was never committed) its request if that is still valid, else the derived one.
   */
  private keptMac(key: string, pod: V1Pod, ls: string, ip: IPAddr): string {
    const lsp = ownPort(this.ctx, pod);
    const mac = lsp?.addresses[0]?.split(/\s+/)[0]?.toLowerCase();
    const sameIncarnation = !lsp?.external_ids[POD_UID_KEY] || lsp.external_ids[POD_UID_KEY] === pod.metadata?.uid;
    if (lsp && mac && !macProblem(mac) && sameIncarnation && portIP(lsp.addresses) === formatIP(ip)) return mac;
    const req = pod.metadata?.annotations?.[KUBEOVN_MAC_ANNOTATION];
    if (req) {
      try {
        const want = requestedMac(KUBEOVN_MAC_ANNOTATION, req, (m) => this.macUser(ls, m, key, podPort(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '')));
        this.macs.set(`${ls} ${want}`, key);
        return want;
      } catch (err) {
        if (!(err instanceof RequestRefusedError)) throw err;
      }
    }
    return macFromIP(ip);
  }

  /** Which other port uses `mac` on switch `ls` (a requested MAC in flight, or any NB port there). */
  private macUser(ls: string, mac: string, key: string, port: string): string | undefined {
    const owner = this.macs.get(`${ls} ${mac}`);
    if (owner && owner !== key) return `pod ${owner}`;
    const sw = this.ctx.nb.cache.lookup('Logical_Switch', 'name', ls);
    for (const uuid of sw?.ports ?? []) {
      const lsp = this.ctx.nb.cache.get('Logical_Switch_Port', uuid);
      if (lsp && lsp.name !== port && lsp.addresses.some((a) => a.split(/\s+/)[0].toLowerCase() === mac)) return `port ${lsp.name}`;
    }
    return undefined;
  }

  /** Frees what the pod held on switch `ls`: its address and a requested MAC. */
  private leaveSwitch(ls: string, key: string): void {
    this.ctx.ipam.releaseOn(ls, key);
    for (const [k, owner] of this.macs) if (owner === key && k.startsWith(`${ls} `)) this.macs.delete(k);
  }

  /**
   * The pod's parent and VLAN tag on a nested node. A parent that looks full first loses the child ports of pods that
   * are gone (deleted while the watcher was down, not torn down yet): their tags are free for this pod to take.
   */
  private async childPlacement(pod: V1Pod, port: string): Promise<ChildPlacement | undefined> {
    try {
      return await this.children.placement(pod, port);
    } catch (err) {
      if (!(err instanceof VlanTagsExhaustedError)) throw err;
      const stale = new Set(this.staleKeys());
      const gone = this.ctx.nb.cache.lookupAll('Logical_Switch_Port', 'parent_name', err.parent).map((l) => ownedBy(l.external_ids, 'pod'));
      const keys = gone.filter((k): k is string => k !== undefined && stale.has(k));
      if (keys.length === 0) throw err;
      for (const k of keys) await this.teardown(k);
      return this.children.placement(pod, port);
    }
  }

  /** A pod refused any address: no port of ours and no pod-networks annotation may claim one for it. */
  private async withdraw(key: string, pod: V1Pod): Promise<void> {
    const ns = pod.metadata?.namespace ?? 'default';
    if (await this.removePort(key)) this.onPodChanged(key, ns);
    this.written.delete(key);
    if (pod.metadata?.annotations?.[POD_NETWORKS_ANNOTATION] === undefined) return;
    await this.ctx.kube.annotate(podRef(pod), { [POD_NETWORKS_ANNOTATION]: null });
    const msg = `${POD_NETWORKS_ANNOTATION} removed: Tessera has allocated no address to this pod`;
    this.ctx.log.warn(`pod ${key}: ${msg}`);
    await this.ctx.kube.event(podRef(pod), 'Warning', ANNOTATION_RESTORED, msg).catch(() => {});
  }

  /** Deletes the pod's port if it is ours; returns whether there was one. */
  private async removePort(key: string): Promise<boolean> {
    const { ctx } = this;
    const { namespace = 'default', name } = splitKey(key);
    const txn = new Txn(ctx.nb.cache, `pod ${key} delete`);
    const lsp = ctx.nb.cache.lookup('Logical_Switch_Port', 'name', podPort(namespace, name));
    if (lsp && ownedBy(lsp.external_ids, 'pod') === key) deletePort(txn, lsp.name);
    else if (lsp) ctx.log.warn(`port ${lsp.name} is not Tessera's port for pod ${key}; left alone`);
    await commit(ctx.nb, txn);
    return !txn.empty;
  }

  private async teardown(key: string): Promise<void> {
    const { namespace = 'default', name } = splitKey(key);
    this.children.release(podPort(namespace, name));
    this.problems.forget(key);
    this.written.delete(key);
    const changed = await this.removePort(key);
    // The port is gone: only now may the address go back to the pool.
    const had = this.ctx.ipam.holding(key);
    if (had) this.leaveSwitch(had.ls, key);
    if (had || changed) this.onPodChanged(key, splitKey(key).namespace ?? 'default');
  }
}
