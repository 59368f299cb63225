// What kube-apiserver's apiextensions controllers write on a new CustomResourceDefinition: NamesAccepted and
// Established, so that `kubectl wait --for=condition=Established` (as deploy/install.sh runs) returns.
import type { KubeObject } from './resources.js';

export function establishCrd(obj: KubeObject, now: string): void {
  const spec = (obj as { spec?: { names?: Record<string, unknown>; versions?: Array<{ name?: string; storage?: boolean }> } }).spec;
  const condition = (type: string, reason: string, message: string): Record<string, string> =>
    ({ type, status: 'True', lastTransitionTime: now, reason, message });
  (obj as { status?: unknown }).status = {
    conditions: [condition('NamesAccepted', 'NoConflicts', 'no conflicts found'), condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted')],
    acceptedNames: spec?.names ?? {},
    storedVersions: (spec?.versions ?? []).filter((v) => v.storage === true && typeof v.name === 'string').map((v) => v.name as string),
  };
}
