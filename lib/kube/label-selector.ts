// Label requirements with k8s.io/apimachinery's matching rules: one matcher for the watcher's
// structured selectors (metav1.LabelSelector) and the test API server's selector strings.
import type { V1LabelSelector } from '@kubernetes/client-node';

/** The operators of metav1.LabelSelector's matchExpressions. */
export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
/** Gt and Lt exist only in selector strings ("n>5"). */
export type LabelOperator = SelectorOperator | 'Gt' | 'Lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export class LabelSelectorError extends Error {}

const SELECTOR_OPERATORS: readonly string[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'] satisfies SelectorOperator[];
const INTEGER_RE = /^-?\d+$/;

export function isSelectorOperator(op: string): op is SelectorOperator {
  return SELECTOR_OPERATORS.includes(op);
}

export function matchRequirement(r: LabelRequirement, labels: Record<string, string>): boolean {
  // Own keys only, so a key like "constructor" is not found on the prototype.
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case 'In':
      return has && r.values.includes(labels[r.key]);
    case 'NotIn':
      return !has || !r.values.includes(labels[r.key]);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      // A value that is not an integer matches neither, as in apimachinery.
      if (!has || !INTEGER_RE.test(labels[r.key])) return false;
      const n = Number(labels[r.key]);
      const bound = Number(r.values[0]);
      return r.operator === 'Gt' ? n > bound : n < bound;
    }
  }
}

/** True if every requirement holds (so none selects everything); stops at the first that fails. */
export function matchRequirements(reqs: Iterable<LabelRequirement>, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of reqs) if (!matchRequirement(r, l)) return false;
  return true;
}

/**
 * A metav1.LabelSelector as requirements: matchLabels, then matchExpressions. Lazy, so that with
 * matchRequirements an unknown operator throws only if matching gets that far.
 */
export function* selectorRequirements(sel: V1LabelSelector): Generator<LabelRequirement> {
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) yield { key, operator: 'In', values: [value] };
  for (const e of sel.matchExpressions ?? []) {
    if (!isSelectorOperator(e.operator)) throw new LabelSelectorError(`unknown label selector operator "${e.operator}" on key "${e.key}"`);
    yield { key: e.key, operator: e.operator, values: e.values ?? [] };
  }
}
