// The resource kinds the test double serves, with the facts the REST layer needs about each:
// URL shape (group/version/plural, namespaced or not), subresources and deletion behaviour.

export interface ResourceType {
  /** "" for the core group. */
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Has a /status subresource: the main resource ignores status changes, /status ignores everything else. */
  statusSubresource: boolean;
  /** Served from a CRD: no strategic merge patch, updates need metadata.resourceVersion, lists carry kind/apiVersion per item. */
  custom: boolean;
  /** DELETE answers with the object (as pods and services do) instead of a Status. */
  returnDeletedObject: boolean;
  /** PUT to a missing name creates it (Leases and Events, as in Kubernetes). */
  allowCreateOnUpdate: boolean;
  /** Field selector labels beyond metadata.name / metadata.namespace, with how to read each. */
  fields: Record<string, (obj: KubeObject) => string>;
}

/** The parts of a Kubernetes object the server itself reads; everything else is carried verbatim. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: unknown[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export function apiVersionOf(rt: ResourceType): string {
  return rt.group === '' ? rt.version : `${rt.group}/${rt.version}`;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

function field(obj: KubeObject, ...path: string[]): string {
  let cur: unknown = obj;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  return str(cur);
}

const base = { statusSubresource: false, custom: false, returnDeletedObject: false, allowCreateOnUpdate: false, fields: {} };

export const RESOURCE_TYPES: ResourceType[] = [
  { ...base, group: '', version: 'v1', plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], statusSubresource: true, returnDeletedObject: true, fields: { 'status.phase': (o) => field(o, 'status', 'phase') } },
  { ...base, group: '', version: 'v1', plural: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'], statusSubresource: true, fields: { 'spec.unschedulable': (o) => field(o, 'spec', 'unschedulable') || 'false' } },
  {
    ...base, group: '', version: 'v1', plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], statusSubresource: true, returnDeletedObject: true,
    fields: {
      'spec.nodeName': (o) => field(o, 'spec', 'nodeName'),
      'spec.restartPolicy': (o) => field(o, 'spec', 'restartPolicy'),
      'spec.schedulerName': (o) => field(o, 'spec', 'schedulerName'),
      'spec.serviceAccountName': (o) => field(o, 'spec', 'serviceAccountName'),
      'spec.hostNetwork': (o) => field(o, 'spec', 'hostNetwork') || 'false',
      'status.phase': (o) => field(o, 'status', 'phase'),
      'status.podIP': (o) => field(o, 'status', 'podIP'),
      'status.nominatedNodeName': (o) => field(o, 'status', 'nominatedNodeName'),
    },
  },
  { ...base, group: '', version: 'v1', plural: 'services', singular: 'service', kind: 'Service', namespaced: true, shortNames: ['svc'], statusSubresource: true, returnDeletedObject: true },
  { ...base, group: '', version: 'v1', plural: 'endpoints', singular: 'endpoints', kind: 'Endpoints', namespaced: true, shortNames: ['ep'] },
  { ...base, group: '', version: 'v1', plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] },
  {
    ...base, group: '', version: 'v1', plural: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'], allowCreateOnUpdate: true,
    fields: {
      'involvedObject.kind': (o) => field(o, 'involvedObject', 'kind'),
      'involvedObject.name': (o) => field(o, 'involvedObject', 'name'),
      'involvedObject.namespace': (o) => field(o, 'involvedObject', 'namespace'),
      'involvedObject.uid': (o) => field(o, 'involvedObject', 'uid'),
      reason: (o) => field(o, 'reason'),
      type: (o) => field(o, 'type'),
    },
  },
  { ...base, group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', singular: 'endpointslice', kind: 'EndpointSlice', namespaced: true },
  { ...base, group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', singular: 'networkpolicy', kind: 'NetworkPolicy', namespaced: true, shortNames: ['netpol'] },
  { ...base, group: 'coordination.k8s.io', version: 'v1', plural: 'leases', singular: 'lease', kind: 'Lease', namespaced: true, allowCreateOnUpdate: true },
  // What an installer applies (deploy/install.sh): stored and served, with no controller behind them.
  { ...base, group: '', version: 'v1', plural: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'] },
  { ...base, group: '', version: 'v1', plural: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true },
  { ...base, group: 'apps', version: 'v1', plural: 'daemonsets', singular: 'daemonset', kind: 'DaemonSet', namespaced: true, shortNames: ['ds'], statusSubresource: true },
  { ...base, group: 'apps', version: 'v1', plural: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], statusSubresource: true },
  { ...base, group: 'apps', version: 'v1', plural: 'statefulsets', singular: 'statefulset', kind: 'StatefulSet', namespaced: true, shortNames: ['sts'], statusSubresource: true },
  { ...base, group: 'batch', version: 'v1', plural: 'jobs', singular: 'job', kind: 'Job', namespaced: true, statusSubresource: true },
  // deploy/agent/node-restriction.yaml; stored only: the double runs no admission policy.
  { ...base, group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingadmissionpolicies', singular: 'validatingadmissionpolicy', kind: 'ValidatingAdmissionPolicy', namespaced: false, statusSubresource: true },
  { ...base, group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingadmissionpolicybindings', singular: 'validatingadmissionpolicybinding', kind: 'ValidatingAdmissionPolicyBinding', namespaced: false },
  { ...base, group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', singular: 'customresourcedefinition', kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd', 'crds'], statusSubresource: true },
  // RBAC objects; the server authorizes service-account identities with them (rbac.ts).
  { ...base, group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', singular: 'role', kind: 'Role', namespaced: true },
  { ...base, group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', singular: 'rolebinding', kind: 'RoleBinding', namespaced: true },
  { ...base, group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', singular: 'clusterrole', kind: 'ClusterRole', namespaced: false },
  { ...base, group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', singular: 'clusterrolebinding', kind: 'ClusterRoleBinding', namespaced: false },
  // Kube-OVN's CRDs: cluster-scoped, with the status subresource enabled as in Kube-OVN's manifests.
  { ...base, group: 'kubeovn.io', version: 'v1', plural: 'vpcs', singular: 'vpc', kind: 'Vpc', namespaced: false, statusSubresource: true, custom: true, returnDeletedObject: true },
  { ...base, group: 'kubeovn.io', version: 'v1', plural: 'subnets', singular: 'subnet', kind: 'Subnet', namespaced: false, statusSubresource: true, custom: true, returnDeletedObject: true },
];

export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const rt of RESOURCE_TYPES) seen.set(`${rt.group}/${rt.version}`, { group: rt.group, version: rt.version });
  return [...seen.values()];
}

export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** APIResourceList for /api/v1 or /apis/<group>/<version>. */
export function resourceList(group: string, version: string): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const rt of RESOURCE_TYPES.filter((r) => r.group === group && r.version === version)) {
    resources.push({ name: rt.plural, singularName: rt.singular, namespaced: rt.namespaced, kind: rt.kind, verbs: VERBS, ...(rt.shortNames ? { shortNames: rt.shortNames } : {}) });
    if (rt.statusSubresource) resources.push({ name: `${rt.plural}/status`, singularName: '', namespaced: rt.namespaced, kind: rt.kind, verbs: ['get', 'patch', 'update'] });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources };
}

export function apiGroup(group: string): Record<string, unknown> | undefined {
  const versions = groupVersions().filter((gv) => gv.group === group).map((gv) => ({ groupVersion: `${gv.group}/${gv.version}`, version: gv.version }));
  if (versions.length === 0) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(): Record<string, unknown> {
  const groups = [...new Set(groupVersions().map((gv) => gv.group).filter((g) => g !== ''))].map((g) => {
    const { kind: _k, apiVersion: _a, ...rest } = apiGroup(g) as Record<string, unknown>;
    return rest;
  });
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** JSON with object keys sorted, so equal objects compare equal whatever order a client serialized them in. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (typeof val !== 'object' || val === null || Array.isArray(val)) return val;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(val).sort()) sorted[k] = (val as Record<string, unknown>)[k];
    return sorted;
  });
}

/**
 * Whether two JSON values serialize the same up to key order (what comparing canonicalJson of both
 * says), without serializing: keys whose value is undefined count as absent. `skip` names top-level
 * keys to ignore. Every update compares the new object with the stored one, so this is on the hot path.
 */
export function jsonEqual(a: unknown, b: unknown, skip?: ReadonlySet<string>): boolean {
  // JSON.stringify writes NaN and Infinity as null.
  if (typeof a === 'number' && !Number.isFinite(a)) a = null;
  if (typeof b === 'number' && !Number.isFinite(b)) b = null;
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      // In arrays, undefined (and functions) serialize as null.
      const x = a[i] === undefined ? null : a[i];
      const y = b[i] === undefined ? null : b[i];
      if (!jsonEqual(x, y)) return false;
    }
    return true;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let na = 0;
  for (const k in ra) {
    if (skip?.has(k) || ra[k] === undefined) continue;
    na++;
    if (!Object.prototype.hasOwnProperty.call(rb, k) || !jsonEqual(ra[k], rb[k])) return false;
  }
  let nb = 0;
  for (const k in rb) if (!skip?.has(k) && rb[k] !== undefined) nb++;
  return na === nb;
}
