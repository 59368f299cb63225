// What a user sees when a pod cannot get its network: a Warning Event on the pod, once per distinct problem (a
// retry loop must not flood the API), and for allocation failures the short tessera.io/pod-network-error
// annotation, which the agent quotes when CNI ADD times out waiting for the network; it goes once the pod has one.
import type { V1Pod } from '@kubernetes/client-node';
import { POD_NETWORK_ERROR_ANNOTATION, shortPodNetworkError } from '../../lib/kube/annotations.js';
import { OvsdbError } from '../../lib/ovsdb/index.js';
import type { WatcherContext } from '../context.js';
import type { ObjectRef } from '../kube-view.js';
import { AddressExhaustedError } from '../ipam/pod-ipam.js';
import { RequestRefusedError } from '../ipam/requests.js';
import { ForeignPortError } from '../../lib/ovn/lsp.js';
import { VlanTagsExhaustedError } from '../nested/vlan-tags.js';
import { NestedParentRefusedError } from '../nested/child-ports.js';

/** Event reasons on pods. */
export const REASON = {
  addressExhausted: 'AddressExhausted',
  subnetNotFound: 'SubnetNotFound',
  addressRequestRefused: 'AddressRequestRefused',
  nbWriteFailed: 'NBWriteFailed',
  portNameTaken: 'PortNameTaken',
  vlanTagsExhausted: 'VlanTagsExhausted',
  nestedParentRefused: 'NestedParentPortRefused',
} as const;

export interface Problem {
  reason: string;
  message: string;
  /** The allocation failed: the pod-network-error annotation says why. */
  allocation: boolean;
  /** The work queue retries the sync (with backoff). */
  retry: boolean;
}

/** The problem a sync error is for a user, or undefined for an error that only the log shows. */
export function classify(err: unknown): Problem | undefined {
  // Not retried: the pod's next update, or the conflicting pod going away, brings it back.
  if (err instanceof RequestRefusedError) return { reason: err.reason ?? REASON.addressRequestRefused, message: err.message, allocation: true, retry: false };
  // Retried: an address comes free when another pod of the node goes.
  if (err instanceof AddressExhaustedError) return { reason: REASON.addressExhausted, message: err.message, allocation: true, retry: true };
  // Retried: the pod gets its network once the other writer's port of that name is gone.
  if (err instanceof ForeignPortError) return { reason: REASON.portNameTaken, message: `${err.message}, so this pod gets no network while it is there`, allocation: true, retry: true };
  // Retried: a tag comes free when another pod of the VM goes; a Node's parent port is fixed by its operator.
  if (err instanceof VlanTagsExhaustedError) return { reason: REASON.vlanTagsExhausted, message: err.message, allocation: true, retry: true };
  if (err instanceof NestedParentRefusedError) return { reason: REASON.nestedParentRefused, message: err.message, allocation: true, retry: true };
  if (err instanceof OvsdbError) return { reason: REASON.nbWriteFailed, message: `writing the pod's port to the OVN Northbound database failed: ${err.message}`, allocation: false, retry: true };
  return undefined;
}

export function podRef(pod: V1Pod): ObjectRef {
  return { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? '', uid: pod.metadata?.uid };
}

export class PodProblems {
  /** Last problem reported per pod ("reason: message"). */
  private readonly reported = new Map<string, string>();
  /** Pods this controller gave a pod-network-error annotation (the store may not show it yet). */
  private readonly annotated = new Set<string>();

  constructor(private readonly ctx: WatcherContext) {}

  /** Reports the problem unless it is the one last reported for this pod. */
  async report(key: string, pod: V1Pod, p: Problem): Promise<void> {
    const what = `${p.reason}: ${p.message}`;
    if (this.reported.get(key) === what) return;
    this.reported.set(key, what);
    this.ctx.log.warn(`pod ${key}: ${what}`);
    await this.ctx.kube.event(podRef(pod), 'Warning', p.reason, p.message).catch(() => {});
    if (p.allocation) {
      const short = shortPodNetworkError(`${p.reason}: ${p.message}`);
      if (pod.metadata?.annotations?.[POD_NETWORK_ERROR_ANNOTATION] !== short) {
        this.annotated.add(key);
        await this.ctx.kube.annotate(podRef(pod), { [POD_NETWORK_ERROR_ANNOTATION]: short }).catch((e: Error) => this.ctx.log.warn(`pod ${key}: ${POD_NETWORK_ERROR_ANNOTATION} not written: ${e.message}`));
      }
    }
  }

  /** The pod has its network: forget its problem and remove a pod-network-error annotation it carries. */
  async resolved(key: string, pod: V1Pod): Promise<void> {
    this.reported.delete(key);
    if (pod.metadata?.annotations?.[POD_NETWORK_ERROR_ANNOTATION] !== undefined || this.annotated.has(key)) {
      await this.ctx.kube.annotate(podRef(pod), { [POD_NETWORK_ERROR_ANNOTATION]: null });
      this.annotated.delete(key);
    }
  }

  forget(key: string): void {
    this.reported.delete(key);
    this.annotated.delete(key);
  }
}
