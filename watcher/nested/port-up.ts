// tessera.io/port-up on nested pods: the pod's port name while NB reports that port `up` (ovn-northd copies it from
// the Southbound Port_Binding once ovn-controller has bound the child port), absent otherwise. The nested agent,
// which sees neither OVS nor NB, answers CNI ADD on it. Only child ports (parent_name set) get it: ordinary pods'
// agents read ovn-installed from their own OVS, and an API write per ordinary pod would cost the burst its speed.
import type { V1Pod } from '@kubernetes/client-node';
import { POD_PORT_UP_ANNOTATION } from '../../lib/kube/annotations.js';
import type { RowChange } from '../../lib/drift/repair.js';
import { ownedBy, podPort } from '../../lib/ovn/names.js';
import type { NbRow } from '../../lib/ovn/txn.js';
import type { WatcherContext } from '../context.js';
import { podRef } from '../controllers/pod-problems.js';

type Lsp = NbRow<'Logical_Switch_Port'>;

export class PortUp {
  constructor(private readonly ctx: WatcherContext) {}

  /** An NB change: a child port's `up` (or its existence) may have changed. */
  nbChanged(ev: RowChange): void {
    if (ev.table !== 'Logical_Switch_Port') return;
    const row = ev.row as Lsp;
    const old = ev.old as Partial<Lsp> | undefined;
    if (!row.parent_name && !old?.parent_name) return;
    const key = ownedBy(row.external_ids ?? old?.external_ids ?? {}, 'pod');
    if (key) void this.syncPod(key);
  }

  /** Every nested pod (start-up, and a pod event): the annotation as NB says. */
  async syncAll(): Promise<void> {
    for (const lsp of this.ctx.nb.cache.list('Logical_Switch_Port')) {
      const key = lsp.parent_name ? ownedBy(lsp.external_ids, 'pod') : undefined;
      if (key) await this.syncPod(key);
    }
  }

  /** Writes or removes the pod's port-up to match NB; errors are logged (the next NB change or pod event retries). */
  async syncPod(key: string): Promise<void> {
    const pod = this.ctx.stores.pods.get(key);
    if (!pod) return;
    const want = wantedPortUp(pod, this.ctx.nb.cache.lookup('Logical_Switch_Port', 'name', portOf(pod)));
    const have = pod.metadata?.annotations?.[POD_PORT_UP_ANNOTATION];
    if (want === have) return;
    await this.ctx.kube.annotate(podRef(pod), { [POD_PORT_UP_ANNOTATION]: want ?? null }).catch((e: Error) => this.ctx.log.warn(`pod ${key}: ${POD_PORT_UP_ANNOTATION} not written: ${e.message}`));
  }
}

const portOf = (pod: V1Pod): string => podPort(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');

/** The port-up value a pod should carry: its own child port's name while up; undefined when it should carry none. */
export function wantedPortUp(pod: V1Pod, lsp: Lsp | undefined): string | undefined {
  if (!lsp || !lsp.parent_name || lsp.up !== true) return undefined;
  const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
  return ownedBy(lsp.external_ids, 'pod') === key && lsp.external_ids['tessera.io/pod-uid'] === pod.metadata?.uid ? lsp.name : undefined;
}
