// external_ids Tessera's watcher writes on every NB row it creates, so reconcile can find its own rows
// (and only those) and tell what Kubernetes object each belongs to.
import { OWNER_KEY } from '../../lib/names.js';

export const OWNER = 'tessera-watcher';
/** The Kubernetes kind a row was made for: node, pod, service, network-policy, cluster. */
export const KIND_KEY = 'tessera.io/kind';
/** namespace/name (or name for cluster-scoped objects) of that object. */
export const OBJECT_KEY = 'tessera.io/object';

export type OwnerKind = 'cluster' | 'node' | 'pod' | 'service' | 'network-policy';

export function ownerIds(kind: OwnerKind, object: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [OWNER_KEY]: OWNER, [KIND_KEY]: kind, [OBJECT_KEY]: object, ...extra };
}

export function isOurs(ids: Record<string, string> | undefined): boolean {
  return ids?.[OWNER_KEY] === OWNER;
}

export function ownedBy(ids: Record<string, string> | undefined, kind: OwnerKind): string | undefined {
  return isOurs(ids) && ids?.[KIND_KEY] === kind ? ids[OBJECT_KEY] : undefined;
}
