// Patch content types for @kubernetes/client-node.
//
// Its generated patch* methods always pick the first media type they list, which is
// application/json-patch+json, so a merge-patch object sent without these options is rejected by
// the server ("a JSON patch must be a list of operations"). The documented way to choose is a
// middleware that overrides the Content-Type header, passed as the call's ConfigurationOptions:
//   core.patchNamespacedPod({ name, namespace, body }, MERGE_PATCH)
import { PatchStrategy, setHeaderOptions, type ConfigurationOptions } from '@kubernetes/client-node';

export type PatchKind = 'merge' | 'strategic' | 'json';

const CONTENT_TYPE: Record<PatchKind, string> = {
  merge: PatchStrategy.MergePatch,
  strategic: PatchStrategy.StrategicMergePatch,
  json: PatchStrategy.JsonPatch,
};

/** Call options that make a client-node patch* call send the given patch type. */
export function patchOptions(kind: PatchKind, base?: ConfigurationOptions): ConfigurationOptions {
  return setHeaderOptions('Content-Type', CONTENT_TYPE[kind], base);
}

export const MERGE_PATCH = patchOptions('merge');
export const STRATEGIC_MERGE_PATCH = patchOptions('strategic');
export const JSON_PATCH = patchOptions('json');

/** Escapes a key for a JSON pointer (annotation keys contain "/"). */
export function jsonPointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * A merge patch that also pins metadata.resourceVersion, so the server answers 409 Conflict if the
 * object changed since it was read (optimistic concurrency for read-modify-write).
 */
export function guardedMergePatch(resourceVersion: string | undefined, patch: Record<string, unknown>): Record<string, unknown> {
  if (!resourceVersion) throw new Error('guardedMergePatch needs the resourceVersion the change was computed from');
  const meta = (patch.metadata ?? {}) as Record<string, unknown>;
  return { ...patch, metadata: { ...meta, resourceVersion } };
}

/** Merge patch setting (string) or removing (null) annotations. */
export function annotationsPatch(annotations: Record<string, string | null>): Record<string, unknown> {
  return { metadata: { annotations } };
}
