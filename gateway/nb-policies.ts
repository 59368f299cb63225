// The gateway's Logical_Router_Policy rows on ovn_cluster_router (the node-IP reroute, topology.ts): the operations
// that make the owned rows match the wanted ones. The gateway is the only writer of this table.
import { op, ref, type NamedUuid, type Op, type OvsdbClient } from '../lib/ovsdb/index.js';
import { NB_MODEL, type LogicalRouter, type NBTables } from '../lib/ovsdb/models/nb.js';
import { OWNER_KEY } from '../lib/names.js';
import { NODE_KEY, OWNER } from './names.js';
import { policyKey, type PolicyRow } from './topology.js';

const b = op(NB_MODEL);
const isOurs = (ids: Record<string, string>, node: string): boolean => ids[OWNER_KEY] === OWNER && ids[NODE_KEY] === node;

/** Deletes owned policies nobody wants any more and inserts the missing ones; `uuidName` names the inserts. */
export function policyOps(nb: OvsdbClient<NBTables>, router: LogicalRouter, want: PolicyRow[], node: string, uuidName: (p: string) => string): Op[] {
  const ops: Op[] = [];
  const wantByKey = new Map(want.map((p) => [policyKey(p), p]));
  for (const u of router.policies) {
    const row = nb.cache.get('Logical_Router_Policy', u);
    if (!row || !isOurs(row.external_ids, node)) continue;
    const k = policyKey(row as Parameters<typeof policyKey>[0]);
    if (wantByKey.has(k)) wantByKey.delete(k);
    else ops.push(b.mutate('Logical_Router', [['_uuid', '==', router._uuid]], [['policies', 'delete', [u]]]));
  }
  for (const w of wantByKey.values()) {
    const n = uuidName('policy');
    ops.push(b.insert('Logical_Router_Policy', { priority: w.priority, match: w.match, action: w.action, nexthops: w.nexthops, external_ids: w.external_ids }, n));
    ops.push(b.mutate('Logical_Router', [['_uuid', '==', router._uuid]], [['policies', 'insert', [ref(n) as NamedUuid]]]));
  }
  return ops;
}

/** Removes every policy the gateway of `node` owns on `router`. */
export function removePolicyOps(nb: OvsdbClient<NBTables>, router: LogicalRouter, node: string): Op[] {
  return policyOps(nb, router, [], node, () => '');
}
