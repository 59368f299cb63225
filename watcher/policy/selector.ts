// Kubernetes label selectors (metav1.LabelSelector semantics): matchLabels AND matchExpressions;
// an empty selector matches everything, an absent one is handled by the caller (it means "none" or
// "all" depending on the field).
import type { V1LabelSelector } from '@kubernetes/client-node';
import { LabelSelectorError, isSelectorOperator, matchRequirements, selectorRequirements } from '../../lib/kube/label-selector.js';

// One class with the shared matcher's, so callers catch an unknown operator from either place.
export { LabelSelectorError as SelectorError };

export function matchesSelector(sel: V1LabelSelector, labels: Record<string, string> | undefined): boolean {
  return matchRequirements(selectorRequirements(sel), labels);
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
