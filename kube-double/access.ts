// Who a request is (bearer token → the admin or a service account) and whether RBAC lets it do what it asks, for the
// server's request handler; plus the objects (e.g. deploy/*/rbac.yaml) an admin creates before the first request.
import type http from 'node:http';
import { findResource, RESOURCE_TYPES, type KubeObject, type ResourceType } from './resources.js';
import { authorize, forbidden, requestVerb, SYSTEM_MASTERS, type RbacSource, type UserInfo } from './rbac.js';
import type { Store } from './store.js';

/** What the authorizer needs of a parsed request path. */
export interface AccessRoute {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  legacyWatch: boolean;
}

export interface Access {
  /** The request's user: the admin for an accepted token (or when auth is off), a known identity, or none (401). */
  authenticate(req: http.IncomingMessage): UserInfo | undefined;
  /** Throws the 403 Forbidden ApiError unless RBAC grants the request. */
  check(user: UserInfo, method: string, route: AccessRoute, q: URLSearchParams): void;
  /** Replaces the admin's tokens, or `user`'s. */
  setTokens(tokens: string[], user?: UserInfo): void;
}

const ADMIN: UserInfo = { name: 'admin', groups: [SYSTEM_MASTERS, 'system:authenticated'] };

export function createObjects(store: Store, objects: KubeObject[]): void {
  for (const o of objects) {
    const [group, version] = (o.apiVersion ?? '').includes('/') ? (o.apiVersion as string).split('/') : ['', o.apiVersion ?? ''];
    const rt = RESOURCE_TYPES.find((r) => r.group === group && r.version === version && r.kind === o.kind);
    if (!rt) throw new Error(`the API test double does not serve ${o.apiVersion ?? '?'} ${o.kind ?? '?'}`);
    store.create(rt, rt.namespaced ? (o.metadata.namespace ?? 'default') : undefined, o);
  }
}

export function createAccess(store: Store, adminToken: string | undefined, ids: Array<{ token: string; user: UserInfo }> = []): Access {
  const identities = new Map(ids.map((i) => [i.token, i.user]));
  let accepted: Set<string> | undefined = adminToken === undefined ? undefined : new Set([adminToken]);
  const rbacType = (plural: string) => findResource('rbac.authorization.k8s.io', 'v1', plural) as ResourceType;
  const all = (plural: string, namespace?: string) => store.listShared(rbacType(plural), { namespace, labels: [], fields: [] }).items;
  const rbac: RbacSource = {
    roles: (ns) => all('roles', ns),
    roleBindings: (ns) => all('rolebindings', ns),
    clusterRoles: () => all('clusterroles'),
    clusterRoleBindings: () => all('clusterrolebindings'),
  };
  return {
    authenticate(req) {
      if (accepted === undefined && identities.size === 0) return ADMIN;
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (!m) return undefined;
      if (accepted?.has(m[1])) return ADMIN;
      return identities.get(m[1]);
    },
    check(user, method, route, q) {
      const watch = route.legacyWatch || q.get('watch') === 'true' || q.get('watch') === '1';
      const attrs = {
        verb: requestVerb(method, route.name !== undefined, watch),
        apiGroup: route.rt.group, resource: route.rt.plural, subresource: route.subresource, namespace: route.namespace, name: route.name,
      };
      if (!authorize(rbac, user, attrs)) throw forbidden(user, attrs);
    },
    setTokens(tokens, user) {
      if (!user) {
        accepted = new Set(tokens);
        return;
      }
      for (const [t, u] of [...identities]) if (u.name === user.name) identities.delete(t);
      for (const t of tokens) identities.set(t, user);
    },
  };
}
