// Kubernetes REST paths and query parameters: which resource a path names (or which discovery document),
// selectors, resourceVersions, and how list items look.
import { apiGroup, apiGroupList, findResource, groupVersions, resourceList, type KubeObject, type ResourceType } from './resources.js';
import { errors } from './status.js';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js';
import type { Filter } from './store.js';

export interface Route {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** /api/v1/watch/... legacy watch path. */
  legacyWatch: boolean;
}

export function parseRoute(segments: string[]): Route | { discovery: unknown } | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api') {
    if (segments.length === 1) return { discovery: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }] } };
    if (segments[1] !== 'v1') return undefined;
    if (segments.length === 2) return { discovery: resourceList('', 'v1') };
    group = '';
    version = 'v1';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis') {
    if (segments.length === 1) return { discovery: apiGroupList() };
    const g = apiGroup(segments[1]);
    if (!g) return undefined;
    if (segments.length === 2) return { discovery: g };
    if (!groupVersions().some((gv) => gv.group === segments[1] && gv.version === segments[2])) return undefined;
    if (segments.length === 3) return { discovery: resourceList(segments[1], segments[2]) };
    group = segments[1];
    version = segments[2];
    rest = segments.slice(3);
  } else return undefined;
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  // namespaces/<name>/status is the namespace's own subresource, not a namespaced collection.
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    const rt = findResource(group, version, rest[2]);
    if (!rt || !rt.namespaced || rest.length > 5) return undefined;
    return { rt, namespace: rest[1], name: rest[3], subresource: rest[4], legacyWatch };
  }
  const rt = findResource(group, version, rest[0] ?? '');
  if (!rt || rest.length > 3) return undefined;
  if (rt.namespaced && rest.length > 1) return undefined;
  return { rt, name: rest[1], subresource: rest[2], legacyWatch };
}

export function filterFrom(rt: ResourceType, q: URLSearchParams, namespace: string | undefined): Filter {
  try {
    const labels = parseLabelSelector(q.get('labelSelector') ?? '');
    const fields = parseFieldSelector(q.get('fieldSelector') ?? '');
    for (const f of fields) {
      if (f.field !== 'metadata.name' && f.field !== 'metadata.namespace' && !rt.fields[f.field]) throw new SelectorError(`field label not supported: ${f.field}`);
    }
    return { namespace, labels, fields };
  } catch (err) {
    if (err instanceof SelectorError) throw errors.badRequest(err.message);
    throw err;
  }
}

export function parseRV(v: string | null): number | undefined {
  if (v === null || v === '' || v === '0') return undefined;
  if (!/^\d+$/.test(v)) throw errors.badRequest(`invalid resource version "${v}"`);
  return Number(v);
}

/** List items of built-in kinds carry no kind/apiVersion, as the real server sends them; custom resources keep theirs. */
export function listItem(rt: ResourceType, o: KubeObject): KubeObject {
  if (rt.custom) return o;
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return rest as KubeObject;
}
