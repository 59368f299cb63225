// What the controllers need of Kubernetes: read-only indexed stores fed by informers, and a few writes
// (annotations, Events). Kept as interfaces so controllers are testable and independent of the
// informer implementation (watcher/informers.ts wires them to the API).
import type { V1Node, V1Pod, V1Service, V1EndpointSlice, V1NetworkPolicy, V1Namespace } from '@kubernetes/client-node';

export interface Store<T> {
  /** By key: "namespace/name" for namespaced kinds, "name" otherwise. */
  get(key: string): T | undefined;
  list(): T[];
  /** Objects whose index function yields `value` (see the index names below). */
  byIndex(index: string, value: string): T[];
}

/** Pod indexes. */
export const POD_BY_NAMESPACE = 'namespace';
export const POD_BY_NODE = 'node';
export const POD_BY_PORT_NAME = 'portName';
/** EndpointSlice index: "namespace/service". */
export const SLICE_BY_SERVICE = 'service';
/** NetworkPolicy index: namespace. */
export const POLICY_BY_NAMESPACE = 'namespace';

export interface Stores {
  nodes: Store<V1Node>;
  pods: Store<V1Pod>;
  namespaces: Store<V1Namespace>;
  services: Store<V1Service>;
  endpointSlices: Store<V1EndpointSlice>;
  policies: Store<V1NetworkPolicy>;
}

export interface ObjectRef {
  kind: 'Pod' | 'Node' | 'Service' | 'NetworkPolicy';
  namespace?: string;
  name: string;
  uid?: string;
}

export interface KubeWrites {
  /** Merge-patches annotations (null deletes a key). */
  annotate(ref: ObjectRef, annotations: Record<string, string | null>): Promise<void>;
  event(ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export const keyOf = (o: { metadata?: { namespace?: string; name?: string } }): string =>
  o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name ?? ''}` : (o.metadata?.name ?? '');

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
