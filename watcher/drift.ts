// The watcher's drift repair (lib/drift): a change by another writer to an NB row carrying the watcher's
// owner ids runs the owning object's controller sync, through that controller's own queue (so per-object
// ordering holds), rate-limited, with a Normal Event NBDriftRepaired on the Pod/Service/NetworkPolicy/Node (or Vpc/Subnet) and a
// Warning NBDriftFighting when the same object's rows keep being reverted. Cluster rows (router, join
// link, shared address sets, protected-endpoint ACLs) re-run master-init, and every node where nodes write them.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { OwnWrites } from '../lib/drift/own-writes.js';
import { DriftRepair, type DriftTarget, type RowChange } from '../lib/drift/repair.js';
import { WorkQueue } from '../lib/workqueue.js';
import type { WatcherContext } from './context.js';
import type { ObjectRef, Stores } from './kube-view.js';
import { keyOf } from './kube-view.js';
import { KIND_KEY, MGMT_ADDRESS_SET, NODE_IPS_ADDRESS_SET, OBJECT_KEY, isOurs, type OwnerKind } from '../lib/ovn/names.js';
import { masterInit } from './master-init.js';
import { PROTECTED_OBJECT } from './policy/protected-endpoints.js';

/** "<kind> <object>" of a row the watcher owns. */
export function watcherOwner(ids: Record<string, string> | undefined): string | undefined {
  return isOurs(ids) && ids![KIND_KEY] && ids![OBJECT_KEY] !== undefined ? `${ids![KIND_KEY]} ${ids![OBJECT_KEY]}` : undefined;
}

/**
 * Whom a repair's Events go to: a core object (through the watcher's KubeWrites), or an object whose controller
 * sends its own Events (kubeovn.io Vpc and Subnet, watcher/vpc).
 */
export type DriftRef = ObjectRef | { event(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> };

/** Queues of the controllers that own each kind of row. */
export interface OwnerQueues {
  nodes: WorkQueue;
  pods: WorkQueue;
  services: WorkQueue;
  policies: WorkQueue;
}

function refOf(kind: ObjectRef['kind'], meta: V1ObjectMeta | undefined): ObjectRef | undefined {
  return meta?.name ? { kind, namespace: meta.namespace, name: meta.name, uid: meta.uid } : undefined;
}

export class WatcherDrift {
  readonly repair: DriftRepair<DriftRef>;
  private readonly cluster: WorkQueue;
  private readonly targets: Record<string, DriftTarget<DriftRef>>;

  constructor(ctx: WatcherContext, own: OwnWrites, queues: OwnerQueues, podRestored: (key: string) => void) {
    const s: Stores = ctx.stores;
    // The node controller fills the shared address sets and writes the protected-endpoint ACL on every switch.
    const perNode = new Set([PROTECTED_OBJECT, MGMT_ADDRESS_SET, NODE_IPS_ADDRESS_SET]);
    this.cluster = new WorkQueue(async (object) => {
      await masterInit(ctx.nb, ctx.config);
      if (perNode.has(object)) await Promise.all(s.nodes.list().map((n) => queues.nodes.addAndWait(keyOf(n))));
    }, { name: 'cluster', workers: 1 });
    const via = (q: WorkQueue, ref?: (object: string) => ObjectRef | undefined): DriftTarget<DriftRef> => ({ sync: (k) => q.addAndWait(k), ref });
    const targets: Record<OwnerKind, DriftTarget<DriftRef>> = {
      pod: via(queues.pods, (k) => refOf('Pod', s.pods.get(k)?.metadata)),
      service: via(queues.services, (k) => refOf('Service', s.services.get(k)?.metadata)),
      'network-policy': via(queues.policies, (k) => refOf('NetworkPolicy', s.policies.get(k)?.metadata)),
      node: via(queues.nodes, (k) => refOf('Node', s.nodes.get(k)?.metadata)),
      cluster: { sync: (object) => this.cluster.addAndWait(object) },
    };
    this.targets = targets;
    this.repair = new DriftRepair<DriftRef>({
      ownerOf: watcherOwner,
      targets,
      own,
      log: ctx.log,
      event: (ref, type, reason, msg) => ('kind' in ref ? ctx.kube.event(ref, type, reason, msg) : ref.event(type, reason, msg)),
      // A restored pod port is a new row: the port groups of the policies selecting the pod must name it again.
      afterRepair: (kind, object) => {
        if (kind === 'pod') podRestored(object);
      },
    });
  }

  /** Rows of another owner kind (a controller attached later, e.g. watcher/vpc's 'vpc' and 'subnet') get repaired too. */
  addTargets(more: Record<string, DriftTarget<DriftRef>>): void {
    Object.assign(this.targets, more);
  }

  observe(ev: RowChange): void {
    this.repair.observe(ev);
  }

  stop(): void {
    this.repair.stop();
    this.cluster.shutdown();
  }
}
