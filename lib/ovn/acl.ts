// ACLs: desired ACLs are compared with the ones a port group holds by their identity
// (direction, priority, match, action, options); only the difference is written.
import type { NamedUuid } from '../ovsdb/notation.js';
import type { NbRow, Txn } from './txn.js';

export interface AclSpec {
  direction: 'from-lport' | 'to-lport';
  priority: number;
  match: string;
  action: NbRow<'ACL'>['action'];
  options?: Record<string, string>;
  external_ids: Record<string, string>;
}

export function aclKey(a: { direction: string; priority: number; match: string; action: string; options?: Record<string, string> }): string {
  const opts = Object.entries(a.options ?? {}).sort().map(([k, v]) => `${k}=${v}`).join(',');
  return `${a.direction}|${a.priority}|${a.action}|${opts}|${a.match}`;
}

/** Splits desired ACLs into rows to insert and existing acl uuids to keep/drop. */
export function diffAcls(txn: Txn, existing: string[], desired: AclSpec[]): { insert: AclSpec[]; keep: string[]; drop: string[] } {
  const want = new Map(desired.map((d) => [aclKey(d), d]));
  const keep: string[] = [];
  const drop: string[] = [];
  for (const uuid of existing) {
    const row = txn.cache.get('ACL', uuid);
    const k = row ? aclKey(row) : undefined;
    if (k !== undefined && want.has(k)) {
      keep.push(uuid);
      want.delete(k);
    } else {
      drop.push(uuid);
    }
  }
  return { insert: [...want.values()], keep, drop };
}

/**
 * Converges a row's ACL list (a port group's or a switch's) to `desired`: inserts the missing ACLs (the one place
 * ACL rows are written) and says which existing uuids to keep and drop. `key` names the owner row within the batch.
 */
export function convergeAcls(txn: Txn, key: string, existing: string[], desired: AclSpec[]): { keep: string[]; drop: string[]; inserted: NamedUuid[] } {
  const { insert, keep, drop } = diffAcls(txn, existing, desired);
  const inserted = insert.map((a, i) => txn.insert('ACL', `${key}/${i}`, { ...a, options: a.options ?? {} }));
  return { keep, drop, inserted };
}
