// Rows a logical router holds by reference and that have no name: static routes, NATs and router policies. Each kind
// is converged the same way: the router's rows that `mine` claims are compared with the wanted ones by identity
// (`key`); unwanted ones are unreferenced (the tables are not root, so the rows go), missing ones inserted and
// referenced, kept ones get their external_ids fixed. Rows others own on the same router stay untouched.
import type { NamedUuid } from '../ovsdb/notation.js';
import { type NbRow, type RowInput, type Txn, byUuid, sameMap } from './txn.js';

export type RouterRef = string | NamedUuid;
type Column = 'static_routes' | 'nat' | 'policies';
type ChildTable = 'Logical_Router_Static_Route' | 'NAT' | 'Logical_Router_Policy';
const TABLE: Record<Column, ChildTable> = { static_routes: 'Logical_Router_Static_Route', nat: 'NAT', policies: 'Logical_Router_Policy' };

export interface StaticRouteSpec {
  ip_prefix: string;
  nexthop: string;
  policy?: 'src-ip' | 'dst-ip';
  output_port?: string;
  external_ids: Record<string, string>;
}

export interface NatSpec {
  type: 'snat' | 'dnat' | 'dnat_and_snat';
  logical_ip: string;
  external_ip: string;
  external_ids: Record<string, string>;
}

export interface RouterPolicySpec {
  priority: number;
  match: string;
  action: 'reroute' | 'allow' | 'drop';
  nexthops: string[];
  external_ids: Record<string, string>;
}

/** Identity of a route for diffing (the row has no name). */
export const staticRouteKey = (r: Pick<StaticRouteSpec, 'ip_prefix' | 'nexthop' | 'policy' | 'output_port'>): string =>
  `${r.policy ?? 'dst-ip'} ${r.ip_prefix} via ${r.nexthop}${r.output_port ? ` out ${r.output_port}` : ''}`;
export const routerPolicyKey = (p: Pick<RouterPolicySpec, 'priority' | 'match' | 'action' | 'nexthops'>): string =>
  `${p.priority} ${p.match} ${p.action} ${[...p.nexthops].sort().join(',')}`;
export const natKey = (n: Pick<NatSpec, 'type' | 'logical_ip' | 'external_ip'>): string => `${n.type} ${n.logical_ip} -> ${n.external_ip}`;

interface Converge<W extends { external_ids: Record<string, string> }> {
  column: Column;
  key: (w: W) => string;
  rowKey: (r: never) => string;
  row: (w: W) => Record<string, unknown>;
}

function converge<W extends { external_ids: Record<string, string> }>(
  txn: Txn, router: RouterRef, existing: readonly string[], want: readonly W[], mine: (ids: Record<string, string>) => boolean, c: Converge<W>,
): void {
  const table = TABLE[c.column];
  const wantByKey = new Map(want.map((w) => [c.key(w), w]));
  for (const u of existing) {
    const row = txn.cache.get(table, u) as (NbRow<ChildTable> & { external_ids: Record<string, string> }) | undefined;
    if (!row || !mine(row.external_ids)) continue;
    const k = c.rowKey(row as never);
    const w = wantByKey.get(k);
    if (!w) {
      txn.mutate('Logical_Router', byUuid(router), [[c.column, 'delete', [u]]]);
      continue;
    }
    if (!sameMap(row.external_ids, w.external_ids)) txn.update(table, byUuid(u), { external_ids: w.external_ids });
    wantByKey.delete(k);
  }
  for (const [k, w] of wantByKey) {
    const r = txn.insert(table, `${String(router)}/${k}`, c.row(w) as RowInput<typeof table>);
    txn.mutate('Logical_Router', byUuid(router), [[c.column, 'insert', [r]]]);
  }
}

/** Converges the static routes `mine` claims on the router (`existing`: its static_routes) to `want`. */
export function convergeStaticRoutes(txn: Txn, router: RouterRef, existing: readonly string[], want: readonly StaticRouteSpec[], mine: (ids: Record<string, string>) => boolean): void {
  converge(txn, router, existing, want, mine, {
    column: 'static_routes', key: staticRouteKey, rowKey: (r: NbRow<'Logical_Router_Static_Route'>) => staticRouteKey(r),
    row: (w) => ({ ip_prefix: w.ip_prefix, nexthop: w.nexthop, external_ids: w.external_ids, ...(w.policy ? { policy: w.policy } : {}), ...(w.output_port ? { output_port: w.output_port } : {}) }),
  });
}

/** Converges the NATs `mine` claims on the router (`existing`: its nat column) to `want`. */
export function convergeNats(txn: Txn, router: RouterRef, existing: readonly string[], want: readonly NatSpec[], mine: (ids: Record<string, string>) => boolean): void {
  converge(txn, router, existing, want, mine, {
    column: 'nat', key: natKey, rowKey: (r: NbRow<'NAT'>) => natKey(r),
    row: (w) => ({ type: w.type, logical_ip: w.logical_ip, external_ip: w.external_ip, external_ids: w.external_ids }),
  });
}

/** Converges the router policies `mine` claims on the router (`existing`: its policies) to `want`. */
export function convergeRouterPolicies(txn: Txn, router: RouterRef, existing: readonly string[], want: readonly RouterPolicySpec[], mine: (ids: Record<string, string>) => boolean): void {
  converge(txn, router, existing, want, mine, {
    column: 'policies', key: routerPolicyKey, rowKey: (r: NbRow<'Logical_Router_Policy'>) => routerPolicyKey(r),
    row: (w) => ({ priority: w.priority, match: w.match, action: w.action, nexthops: w.nexthops, external_ids: w.external_ids }),
  });
}

/** Unreferences the routes ovn-ic learned (marked by `learnedKey` in external_ids) from the router. */
export function dropRoutesMarked(txn: Txn, router: NbRow<'Logical_Router'> | undefined, learnedKey: string): void {
  if (!router) return;
  const learned = router.static_routes.filter((u) => {
    const r = txn.cache.get('Logical_Router_Static_Route', u);
    return r !== undefined && learnedKey in r.external_ids;
  });
  if (learned.length) txn.mutate('Logical_Router', byUuid(router._uuid), [['static_routes', 'delete', learned]]);
}
