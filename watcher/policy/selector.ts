// Kubernetes label selectors (metav1.LabelSelector semantics): matchLabels AND matchExpressions;
// an empty selector matches everything, an absent one is handled by the caller (it means "none" or
// "all" depending on the field).
import type { V1LabelSelector } from '@kubernetes/client-node';
import { LabelSelectorError, isSelectorOperator, matchRequirements, selectorRequirements, type LabelRequirement } from '../../lib/kube/label-selector.js';

// One class with the shared matcher's, so callers catch an unknown operator from either place.
export { LabelSelectorError as SelectorError };

/** Parsed requirements per selector object: policy objects are replaced on change, never edited in place. */
const parsed = new WeakMap<V1LabelSelector, LabelRequirement[]>();

export function matchesSelector(sel: V1LabelSelector, labels: Record<string, string> | undefined): boolean {
  let req = parsed.get(sel);
  if (!req) parsed.set(sel, (req = [...selectorRequirements(sel)]));
  return matchRequirements(req, labels);
}

/** Checks the selector's shape so a bad policy is reported once, not thrown per pod. */
export function validateSelector(sel: V1LabelSelector, where: string): void {
  for (const e of sel.matchExpressions ?? []) {
    if (!isSelectorOperator(e.operator)) {
      throw new LabelSelectorError(`${where}: unknown operator "${e.operator}" on key "${e.key}"`);
    }
    if ((e.operator === 'In' || e.operator === 'NotIn') && !(e.values ?? []).length) {
      throw new LabelSelectorError(`${where}: operator ${e.operator} on key "${e.key}" needs values`);
    }
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && (e.values ?? []).length) {
      throw new LabelSelectorError(`${where}: operator ${e.operator} on key "${e.key}" takes no values`);
    }
  }
}
