// Pods as Neutron ports (Kuryr's layouts). Each pod that wants a network gets one Neutron port on the configured
// (or its Namespace's) subnet, tagged with Tessera's, the cluster's and the pod uid's tags:
//   - nested node (Node annotation tessera.io/nested-parent-port = the VM's port, a trunk parent): the port becomes
//     a VLAN subport of that trunk and the pod's annotation carries `vlan` and `iface_id` = the port id (its port-up);
//   - any other node (baremetal): the port is bound to the node, and once that binding works the annotation carries
//     `iface_id` = the port id, the agent plugs the pod into br-int with it, and Neutron's OVN owns the switch port.
// tessera.io/port-up follows the port's Neutron status (ACTIVE), polled with per-pod backoff. Failures (Neutron down,
// OverQuota, a refused parent) are a pod Event + pod-network-error and a retry with the work queue's backoff; a port
// whose tagging fails is deleted at once, one created but not yet a subport is finished by the retry, one whose tags
// never went on (the watcher stopped in between) is found by what its POST stored and tagged or deleted, and ports
// of pods that are gone are deleted at start and on every reconcile.
import type { V1Pod } from '@kubernetes/client-node';
import {
  NODE_NESTED_PARENT_ANNOTATION, POD_NETWORKS_ANNOTATION, POD_PORT_UP_ANNOTATION, DEFAULT_NETWORK, parsePodNetworks,
} from '../../lib/kube/annotations.js';
import type { NeutronClient } from '../../lib/neutron/client.js';
import { POD_PORT_DEVICE_OWNER, type NeutronPort } from '../../lib/neutron/types.js';
import { KeyBackoff } from '../../lib/rate-limit.js';
import { WorkQueue } from '../../lib/workqueue.js';
import type { WatcherContext } from '../context.js';
import { keyOf } from '../kube-view.js';
import { PodProblems, podRef } from '../controllers/pod-problems.js';
import { ANNOTATION_RESTORED, wantsPort } from '../controllers/pods.js';
import type { NeutronPortsConfig } from './config.js';
import { portChoice, type PortChoice } from './namespace.js';
import { bindingProblem, classifyNeutron, NEUTRON_REASON, NeutronRefusal } from './problems.js';
import type { NeutronSource } from './source.js';
import { detachSubport, parentTrunk, TrunkSerializer } from './trunk.js';
import {
  bindingWorks, clusterTag, isUntagged, mergePorts, podNetworkFromPort, podTag, podUidOf, podPortOwner, portDescription, portName, portOrigin, portTags, type Attachment,
} from './translate.js';

export class NeutronPortController {
  readonly queue: WorkQueue;
  /** The uid last seen per pod key: a deleted pod's ports are found by it. */
  private readonly uids = new Map<string, string>();
  private readonly problems: PodProblems;
  /** Port-up polling: a port not ACTIVE yet is looked at again after a growing delay. */
  private readonly upPoll = new KeyBackoff({ baseMs: 250, maxMs: 10_000, quietMs: 60_000 });
  private readonly trunks = new TrunkSerializer();
  /** Last refusal reported per Node, so a Node gets one Event per distinct problem. */
  private readonly nodeProblems = new Map<string, string>();

  constructor(private readonly ctx: WatcherContext, readonly cfg: NeutronPortsConfig, private readonly source: NeutronSource) {
    this.problems = new PodProblems(ctx);
    this.queue = new WorkQueue((k) => this.sync(k), {
      name: 'neutron-port', workers: Math.min(ctx.config.workers, 32), baseDelayMs: 500, maxDelayMs: 30_000,
      onError: (key, err, n) => ctx.log.warn(`neutron-port ${key}: sync failed (attempt ${n}): ${err instanceof Error ? err.message : String(err)}`),
    });
  }

  podChanged(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    const key = keyOf(pod);
    if (uid && !this.uids.has(key)) this.uids.set(key, uid);
    this.queue.add(key);
  }

  /** A Namespace's choice may have changed: its pods converge. */
  namespaceChanged(name: string): void {
    for (const p of this.ctx.stores.pods.list()) if (p.metadata?.namespace === name) this.queue.add(keyOf(p));
  }

  /** Every pod converges, and ports of pods that are gone are deleted. */
  async reconcile(): Promise<void> {
    for (const p of this.ctx.stores.pods.list()) this.podChanged(p);
    await this.collectOrphans().catch((e: Error) => this.ctx.log.warn(`neutron-port: orphan collection failed: ${e.message}`));
  }

  stop(): void {
    this.queue.shutdown();
  }

  async sync(key: string): Promise<void> {
    const pod = this.ctx.stores.pods.get(key);
    const before = this.uids.get(key);
    if (!pod || !wantsPort(pod)) {
      if (before) await this.removePorts(await this.source.get(), before);
      this.uids.delete(key);
      this.problems.forget(key);
      this.upPoll.forget(key);
      return;
    }
    if (!pod.spec?.nodeName) return;
    const uid = pod.metadata?.uid ?? '';
    try {
      const api = await this.source.get();
      // The same name, a new pod: the old incarnation's port goes first.
      if (before && before !== uid) await this.removePorts(api, before);
      this.uids.set(key, uid);
      if (!(await this.ensure(api, key, pod))) return;
    } catch (err) {
      const problem = classifyNeutron(err);
      if (!problem) throw err;
      this.source.invalidate();
      await this.problems.report(key, pod, problem);
      throw err;
    }
    await this.problems.resolved(key, pod);
  }

  /** False while the pod cannot have its network yet (its port's binding failed; polled again). */
  private async ensure(api: NeutronClient, key: string, pod: V1Pod): Promise<boolean> {
    const { ctx } = this;
    const node = pod.spec!.nodeName!;
    const parentId = ctx.stores.nodes.get(node)?.metadata?.annotations?.[NODE_NESTED_PARENT_ANNOTATION];
    const choice = await this.choose(api, pod);
    // A nested node's parent is checked before anything is created for the pod.
    const trunk = parentId === undefined ? undefined : await this.checkedParent(api, node, parentId);
    const subnet = await api.getSubnet(choice.subnetId);
    const network = await api.getNetwork(subnet.network_id);
    // Baremetal: bound to the node's chassis (its hostname is the node name), as Nova binds a VM's port, so Neutron
    // reports it ACTIVE once that chassis claims it. A subport follows its trunk's parent.
    const port = await this.podPort(api, pod, choice, subnet.network_id, trunk ? undefined : node);
    // No iface_id before the binding works (Nova's order): a port OVN reports up while its binding has failed stays
    // DOWN in Neutron for good, even after a later re-bind succeeds.
    if (!trunk && !bindingWorks(port)) {
      await this.bindingFailed(key, pod, port, node);
      return false;
    }
    let at: Attachment = { kind: 'baremetal' };
    if (trunk) at = { kind: 'nested', vlan: await this.trunks.addSubport(api, trunk.trunkId, port.id) };
    const want = JSON.stringify({ [DEFAULT_NETWORK]: podNetworkFromPort(port, subnet, network, at) });
    const ann = pod.metadata?.annotations ?? {};
    const patch: Record<string, string | null> = {};
    if (ann[POD_NETWORKS_ANNOTATION] !== want) patch[POD_NETWORKS_ANNOTATION] = want;
    const up = port.status === 'ACTIVE';
    if (up && ann[POD_PORT_UP_ANNOTATION] !== port.id) patch[POD_PORT_UP_ANNOTATION] = port.id;
    // A value naming another (earlier) port must not let the agent answer for this one.
    if (!up && ann[POD_PORT_UP_ANNOTATION] !== undefined) patch[POD_PORT_UP_ANNOTATION] = null;
    if (Object.keys(patch).length) await ctx.kube.annotate(podRef(pod), patch);
    if (ann[POD_NETWORKS_ANNOTATION] !== undefined && patch[POD_NETWORKS_ANNOTATION] !== undefined) await this.restored(pod, ann[POD_NETWORKS_ANNOTATION], port.id);
    if (up) this.upPoll.forget(key);
    else this.queue.addAfter(key, Math.max(250, this.upPoll.hit(key).delayMs));
    return true;
  }

  /** An annotation naming another port than the pod's own (anyone who may patch the pod can write it) was set back. */
  private async restored(pod: V1Pod, had: string, portId: string): Promise<void> {
    let named: unknown;
    try {
      named = parsePodNetworks(had)?.[DEFAULT_NETWORK]?.iface_id;
    } catch {
      named = undefined;
    }
    if (named === portId) return;
    const msg = `${POD_NETWORKS_ANNOTATION} named ${JSON.stringify(named ?? null).slice(0, 80)} as iface_id, not this pod's Neutron port; set back to ${portId}`;
    this.ctx.log.warn(`pod ${keyOf(pod)}: ${msg}`);
    await this.ctx.kube.event(podRef(pod), 'Warning', ANNOTATION_RESTORED, msg).catch(() => {});
  }

  /** The pod's Event and pod-network-error, no stale port-up, and another bind attempt after the poll's backoff. */
  private async bindingFailed(key: string, pod: V1Pod, port: NeutronPort, node: string): Promise<void> {
    await this.problems.report(key, pod, bindingProblem(port.id, node, port['binding:vif_type']));
    if (pod.metadata?.annotations?.[POD_PORT_UP_ANNOTATION] !== undefined) await this.ctx.kube.annotate(podRef(pod), { [POD_PORT_UP_ANNOTATION]: null });
    this.queue.addAfter(key, Math.max(250, this.upPoll.hit(key).delayMs));
  }

  /** The Namespace's choice; a subnet it picks must be of the configured project. */
  private async choose(api: NeutronClient, pod: V1Pod): Promise<PortChoice> {
    const nsName = pod.metadata?.namespace ?? '';
    const choice = portChoice(this.cfg, this.ctx.stores.namespaces.get(nsName));
    if (choice.networkId === undefined) {
      const s = await api.getSubnet(choice.subnetId);
      if (s.project_id !== api.projectId) throw new NeutronRefusal(NEUTRON_REASON.namespaceRefused, `Namespace ${nsName}: subnet ${s.id} is not of project ${api.projectId}`);
    }
    return choice;
  }

  private async checkedParent(api: NeutronClient, node: string, parentId: string) {
    try {
      const t = await parentTrunk(api, node, parentId);
      this.nodeProblems.delete(node);
      return t;
    } catch (e) {
      if (e instanceof NeutronRefusal && this.nodeProblems.get(node) !== e.message) {
        this.nodeProblems.set(node, e.message);
        this.ctx.log.warn(e.message);
        await this.ctx.kube.event({ kind: 'Node', name: node }, 'Warning', e.reason, e.message).catch(() => {});
      }
      throw e;
    }
  }

  /**
   * The pod's port: found by its uid tag or, untagged, by what its POST stored (then tagged), else created and
   * tagged (deleted again if the tags do not go on).
   */
  private async podPort(api: NeutronClient, pod: V1Pod, choice: PortChoice, networkId: string, host: string | undefined): Promise<NeutronPort> {
    const uid = pod.metadata!.uid!;
    const found = await this.portsOfPod(api, uid);
    for (const extra of found.slice(1)) await this.removePort(api, extra);
    let port = found[0];
    if (port && isUntagged(port)) {
      await api.setPortTags(port.id, portTags(this.cfg.cluster, uid));
      port = { ...port, tags: portTags(this.cfg.cluster, uid) };
      this.ctx.log.info(`neutron-port: adopted untagged port ${port.id} (${port.name}) of pod ${uid}`);
    }
    if (!port) {
      port = await api.createPort({
        name: portName(pod.metadata?.namespace ?? '', pod.metadata?.name ?? ''), network_id: networkId, ...portOrigin(this.cfg.cluster, uid),
        fixed_ips: [{ subnet_id: choice.subnetId }], ...(choice.securityGroups.length ? { security_groups: choice.securityGroups } : {}),
        ...(host !== undefined ? podPortOwner(uid) : {}),
      });
      try {
        await api.setPortTags(port.id, portTags(this.cfg.cluster, uid));
      } catch (e) {
        await api.deletePort(port.id).catch(() => undefined);
        throw e;
      }
      port.tags = portTags(this.cfg.cluster, uid);
    }
    const sorted = (a: string[]) => [...a].sort().join(',');
    const update: Parameters<NeutronClient['updatePort']>[1] = {};
    if (choice.securityGroups.length && sorted(port.security_groups) !== sorted(choice.securityGroups)) update.security_groups = choice.securityGroups;
    // What the agent checks before plugging the pod into the port (a subport's are Neutron's: trunk:subport).
    if (host !== undefined && (port.device_owner !== POD_PORT_DEVICE_OWNER || port.device_id !== uid)) Object.assign(update, podPortOwner(uid));
    // A binding that failed (the node's chassis was not there yet) is tried again by any port update.
    if (host !== undefined && (port['binding:host_id'] !== host || !bindingWorks(port))) update['binding:host_id'] = host;
    if (Object.keys(update).length) port = { ...port, ...(await api.updatePort(port.id, update)) };
    return port;
  }

  /** This cluster's ports of the pod uid, tagged ones first: by tag, and by the description its POST stored. */
  private async portsOfPod(api: NeutronClient, uid: string): Promise<NeutronPort[]> {
    const lists = await Promise.all([
      api.listPorts({ tags: podTag(uid), project_id: api.projectId }),
      api.listPorts({ description: portDescription(this.cfg.cluster, uid), project_id: api.projectId }),
    ]);
    return mergePorts(lists).filter((p) => podUidOf(p, this.cfg.cluster) === uid);
  }

  /** Deletes every port of this cluster made for the pod uid, leaving its trunk first. */
  private async removePorts(api: NeutronClient, uid: string): Promise<void> {
    for (const p of await this.portsOfPod(api, uid)) await this.removePort(api, p);
  }

  private async removePort(api: NeutronClient, p: NeutronPort): Promise<void> {
    if (p.device_owner === 'trunk:subport') await detachSubport(api, p.id);
    await api.deletePort(p.id);
    this.ctx.log.info(`neutron-port: deleted port ${p.id} (${p.name})`);
  }

  /** Ports of this cluster whose pod is gone (a deletion missed while the watcher was down); a live pod's untagged port is its sync's to adopt. */
  async collectOrphans(): Promise<number> {
    const api = await this.source.get();
    // Tagged ports, and those whose tags never went on (by the device_owner their POST stored).
    const ports = mergePorts(await Promise.all([
      api.listPorts({ tags: clusterTag(this.cfg.cluster), project_id: api.projectId }),
      api.listPorts({ device_owner: POD_PORT_DEVICE_OWNER, project_id: api.projectId }),
    ]));
    // Pods are read after the ports: a port listed was made for a pod the store already has, unless it is gone.
    const live = new Set(this.ctx.stores.pods.list().filter((p) => wantsPort(p)).map((p) => p.metadata?.uid));
    let n = 0;
    for (const p of ports) {
      const uid = podUidOf(p, this.cfg.cluster);
      if (!uid || live.has(uid)) continue;
      await this.removePort(api, p);
      n++;
    }
    if (n) this.ctx.log.info(`neutron-port: removed ${n} ports of pods that no longer exist`);
    return n;
  }
}
