// Kubernetes label selectors (metav1.LabelSelector semantics): matchLabels AND matchExpressions;
// an empty selector matches everything, an absent one is handled by the caller (it means "none" or
// "all" depending on the field).
import type { V1LabelSelector } from '@kubernetes/client-node';

export class SelectorError extends Error {}

export function matchesSelector(sel: V1LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const vals = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !vals.includes(l[e.key])) return false;
        break;
      case 'NotIn':
        if (has && vals.includes(l[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new SelectorError(`unknown label selector operator "${e.operator}" on key "${e.key}"`);
    }
  }
  return true;
}

/** Checks the selector's shape so a bad policy is reported once, not thrown per pod. */
export function validateSelector(sel: V1LabelSelector, where: string): void {
  for (const e of sel.matchExpressions ?? []) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) {
      throw new SelectorError(`${where}: unknown operator "${e.operator}" on key "${e.key}"`);
    }
    if ((e.operator === 'In' || e.operator === 'NotIn') && !(e.values ?? []).length) {
      throw new SelectorError(`${where}: operator ${e.operator} on key "${e.key}" needs values`);
    }
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && (e.values ?? []).length) {
      throw new SelectorError(`${where}: operator ${e.operator} on key "${e.key}" takes no values`);
    }
  }
}
