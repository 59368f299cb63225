// Conditions as Kube-OVN writes them (type, status, reason, message, times), and the Vpc/Subnet status bodies.
import type { Condition } from '../../lib/kube/kubeovn.js';

export interface SubnetVerdict {
  ok: boolean;
  reason: string;
  message: string;
}

/** Ready and Error conditions for a verdict, keeping lastTransitionTime when a condition's status is unchanged. */
export function conditionsFor(v: SubnetVerdict, have: Condition[] | undefined, now = new Date().toISOString()): Condition[] {
  const want: Condition[] = [
    { type: 'Ready', status: v.ok ? 'True' : 'False', reason: v.ok ? 'Ready' : v.reason, message: v.ok ? v.message : '' },
    { type: 'Error', status: v.ok ? 'False' : 'True', reason: v.ok ? '' : v.reason, message: v.ok ? '' : v.message },
  ];
  const out = want.map((c) => {
    const prev = have?.find((h) => h.type === c.type);
    const same = prev && prev.status === c.status && prev.reason === c.reason && prev.message === c.message;
    return same ? prev : { ...c, lastUpdateTime: now, lastTransitionTime: prev && prev.status === c.status ? (prev.lastTransitionTime ?? now) : now };
  });
  // Conditions other writers set (e.g. NeutronSync, external.ts) stay.
  return [...out, ...(have ?? []).filter((h) => h.type !== 'Ready' && h.type !== 'Error')];
}

/** Whether two status bodies say the same (conditions compared without their times). */
export function sameStatus(a: unknown, b: unknown): boolean {
  const strip = (v: unknown) => JSON.stringify(v, (k, x: unknown) => (k === 'lastUpdateTime' || k === 'lastTransitionTime' ? undefined : x));
  return strip(a) === strip(b);
}
