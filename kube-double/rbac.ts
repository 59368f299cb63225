// RBAC authorization as Kubernetes' RBAC authorizer does it, from the Role/ClusterRole/RoleBinding/ClusterRoleBinding
// objects in the store: a request is allowed when some binding that names the user (or one of its groups) points at
// a role with a matching rule. A denial is a 403 with the real server's Status (reason Forbidden, its message).
import { ApiError, qualifiedResource } from './status.js';
import type { KubeObject } from './resources.js';

export interface UserInfo {
  name: string;
  groups: string[];
}

/** What the authorizer is asked, as Kubernetes' authorizer.Attributes. */
export interface RequestAttributes {
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

interface RoleRef {
  kind?: string;
  name?: string;
}

/** The RBAC objects the authorizer reads; the server passes its store's current ones. */
export interface RbacSource {
  roles(namespace: string): KubeObject[];
  roleBindings(namespace: string): KubeObject[];
  clusterRoles(): KubeObject[];
  clusterRoleBindings(): KubeObject[];
}

export const SYSTEM_MASTERS = 'system:masters';

/** The identity of a service account's token, with the groups Kubernetes gives it. */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return { name: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
}

function has(list: string[] | undefined, v: string): boolean {
  return !!list && (list.includes('*') || list.includes(v));
}

function resourceMatches(rule: PolicyRule, a: RequestAttributes): boolean {
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (a.subresource && (r === `*/${a.subresource}` || r === `${a.resource}/*`)) return true;
  }
  return false;
}

export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!has(rule.verbs, a.verb) || !has(rule.apiGroups, a.apiGroup) || !resourceMatches(rule, a)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (a.name !== undefined && names.includes(a.name));
}

function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  switch (s.kind) {
    case 'ServiceAccount':
      return user.name === `system:serviceaccount:${s.namespace ?? bindingNamespace ?? ''}:${s.name ?? ''}`;
    case 'User':
      return user.name === s.name;
    case 'Group':
      return s.name !== undefined && user.groups.includes(s.name);
    default:
      return false;
  }
}

const rulesOf = (o: KubeObject | undefined): PolicyRule[] => (o?.rules as PolicyRule[] | undefined) ?? [];
const named = (list: KubeObject[], name: string | undefined): KubeObject | undefined => list.find((o) => o.metadata.name === name);

/** Whether RBAC grants the request: cluster-wide bindings, then (for a namespaced request) the namespace's. */
export function authorize(src: RbacSource, user: UserInfo, a: RequestAttributes): boolean {
  if (user.groups.includes(SYSTEM_MASTERS)) return true;
  const boundTo = (b: KubeObject, ns: string | undefined) => ((b.subjects as Subject[] | undefined) ?? []).some((s) => subjectMatches(s, user, ns));
  const clusterRoles = src.clusterRoles();
  for (const b of src.clusterRoleBindings()) {
    if (!boundTo(b, undefined)) continue;
    if (rulesOf(named(clusterRoles, (b.roleRef as RoleRef | undefined)?.name)).some((r) => ruleAllows(r, a))) return true;
  }
  if (a.namespace === undefined) return false;
  const roles = src.roles(a.namespace);
  for (const b of src.roleBindings(a.namespace)) {
    if (!boundTo(b, a.namespace)) continue;
    const ref = b.roleRef as RoleRef | undefined;
    const role = ref?.kind === 'ClusterRole' ? named(clusterRoles, ref.name) : named(roles, ref?.name);
    if (rulesOf(role).some((r) => ruleAllows(r, a))) return true;
  }
  return false;
}

/** The 403 the real server sends (k8s.io/apiserver responsewriters.forbiddenMessage + errors.NewForbidden). */
export function forbidden(user: UserInfo, a: RequestAttributes): ApiError {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace !== undefined ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  const why = `User "${user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}`;
  const qualified = qualifiedResource(a.apiGroup, a.resource);
  const message = a.name ? `${qualified} "${a.name}" is forbidden: ${why}` : `${qualified} is forbidden: ${why}`;
  return new ApiError(403, 'Forbidden', message, { ...(a.name ? { name: a.name } : {}), ...(a.apiGroup ? { group: a.apiGroup } : {}), kind: a.resource });
}

/** The request's verb, as the API server names it for authorization. */
export function requestVerb(method: string, named: boolean, watch: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch ? 'watch' : named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}
