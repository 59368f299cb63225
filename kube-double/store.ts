// The object store behind the test double: objects per resource type, one global resourceVersion, and
// Kubernetes' write rules (create, update, patch, delete, bind); watch-hub.ts sends each change to the watches.
import { randomUUID } from 'node:crypto';
import { apiVersionOf, jsonEqual, RESOURCE_TYPES, type KubeObject, type ResourceType } from './resources.js';
import { ApiError, errors } from './status.js';
import { establishCrd } from './crd-status.js';
import { jsonPatch, mergePatch, parseJsonPatch, PatchError, strategicMergePatch, type Json } from './patch.js';
import { releaseService, ServiceAllocator, validateObject } from './validate.js';
import { matches, WatchHub, type Filter, type WatchSink } from './watch-hub.js';

export type { EventType, Filter, StoreEvent, WatchSink } from './watch-hub.js';

export interface StoreOptions {
  /** Events retained for watch resumption; older resourceVersions get 410 Gone. */
  historySize?: number;
  /** Range service cluster IPs come from. */
  serviceCidr?: string;
  /** Namespaces that exist from the start, as in a fresh cluster. */
  namespaces?: string[];
}

export type PatchType = 'merge' | 'strategic' | 'json';

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
}

const NAME_SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function keyOf(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

const NOT_SPEC = new Set(['metadata', 'status']);
const RV = new Set(['resourceVersion']);
const META = new Set(['metadata']);

/** Everything but metadata and status is the same: what leaves metadata.generation alone. */
function sameSpec(a: KubeObject, b: KubeObject): boolean {
  return jsonEqual(a, b, NOT_SPEC);
}

function sameIgnoringRV(a: KubeObject, b: KubeObject): boolean {
  return jsonEqual(a, b, META) && jsonEqual(a.metadata, b.metadata, RV);
}

export class Store {
  private rv = 0;
  private readonly objects = new Map<ResourceType, Map<string, KubeObject>>();
  private readonly hub: WatchHub;
  private readonly alloc: ServiceAllocator;
  private readonly nsType: ResourceType;
  /** JSON of stored objects, made once: watch events and the write's own response send the same bytes. */
  private readonly jsonCache = new WeakMap<KubeObject, string>();

  constructor(opts: StoreOptions = {}) {
    this.hub = new WatchHub(Math.max(1, opts.historySize ?? 10000), (obj) => this.json(obj));
    this.alloc = new ServiceAllocator(opts.serviceCidr ?? '10.96.0.0/16');
    for (const rt of RESOURCE_TYPES) this.objects.set(rt, new Map());
    this.nsType = RESOURCE_TYPES.find((r) => r.kind === 'Namespace') as ResourceType;
    for (const ns of opts.namespaces ?? ['default', 'kube-system', 'kube-public', 'kube-node-lease']) this.createShared(this.nsType, undefined, { metadata: { name: ns } });
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch can still resume from. */
  get oldestResumableVersion(): number {
    return this.hub.oldestResumableVersion;
  }

  /** The stored object itself, shared: callers must not mutate it (the HTTP layer only serializes). */
  getShared(rt: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.objects.get(rt)?.get(keyOf(rt.namespaced ? namespace : undefined, name));
    if (!obj) throw errors.notFound(rt.group, rt.plural, name);
    return obj;
  }

  /** The JSON of an object this store returned (stored objects are never changed in place, so it is made once). */
  json(obj: KubeObject): string {
    let j = this.jsonCache.get(obj);
    if (j === undefined) this.jsonCache.set(obj, (j = JSON.stringify(obj)));
    return j;
  }

  /** A copy of the object: in-process callers may change it and pass it back to update(). */
  get(rt: ResourceType, namespace: string | undefined, name: string): KubeObject {
    return structuredClone(this.getShared(rt, namespace, name));
  }

  list(rt: ResourceType, filter: Filter): { items: KubeObject[]; resourceVersion: number } {
    const r = this.listShared(rt, filter);
    return { items: structuredClone(r.items), resourceVersion: r.resourceVersion };
  }

  /** Current objects matching the filter, sorted by namespace/name as etcd returns them; shared, as getShared. */
  listShared(rt: ResourceType, filter: Filter): { items: KubeObject[]; resourceVersion: number } {
    const all = this.objects.get(rt) as Map<string, KubeObject>;
    const items: KubeObject[] = [];
    const keys = [...all.keys()].sort();
    for (const k of keys) {
      const o = all.get(k) as KubeObject;
      if (matches(rt, filter, o)) items.push(o);
    }
    return { items, resourceVersion: this.rv };
  }

  /** `bodyOwned`: the caller hands `body` over (e.g. just parsed from a request), so it is not copied. */
  createShared(rt: ResourceType, namespace: string | undefined, body: unknown, bodyOwned = false): KubeObject {
    const obj = this.checkBody(rt, body, bodyOwned);
    const meta = obj.metadata;
    if (rt.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && namespace !== undefined && meta.namespace !== namespace)
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = namespace ?? meta.namespace;
      if (!meta.namespace) throw errors.badRequest('a namespace is required to create a namespaced object');
      if (!this.objects.get(this.nsType)?.has(keyOf(undefined, meta.namespace))) throw errors.notFound('', 'namespaces', meta.namespace);
    } else {
      delete meta.namespace;
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '') throw errors.internal('resourceVersion should not be set on objects to be created');
    const all = this.objects.get(rt) as Map<string, KubeObject>;
    if (!meta.name) {
      if (!meta.generateName) throw errors.invalid(rt.group, rt.kind, '', [{ field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' }]);
      for (let i = 0; i < 8 && !meta.name; i++) {
        let suffix = '';
        for (let j = 0; j < 5; j++) suffix += NAME_SUFFIX_CHARS[Math.floor(Math.random() * NAME_SUFFIX_CHARS.length)];
        const name = meta.generateName + suffix;
        if (!all.has(keyOf(meta.namespace, name))) meta.name = name;
      }
      if (!meta.name) throw errors.alreadyExists(rt.group, rt.plural, meta.generateName + '*');
    }
    if (all.has(keyOf(meta.namespace, meta.name))) throw errors.alreadyExists(rt.group, rt.plural, meta.name);
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    meta.generation = 1;
    this.validate(rt, obj, undefined);
    if (rt.plural === 'customresourcedefinitions') establishCrd(obj, meta.creationTimestamp);
    meta.resourceVersion = String(++this.rv);
    all.set(keyOf(meta.namespace, meta.name), obj);
    this.hub.emit({ rv: this.rv, rt, type: 'ADDED', object: obj });
    return obj;
  }

  /**
   * PUT. `subresource` 'status' changes only status; the main resource ignores status changes when the
   * kind has a status subresource. A stale metadata.resourceVersion is a 409 Conflict.
   */
  updateShared(rt: ResourceType, namespace: string | undefined, name: string, body: unknown, subresource?: 'status', fromPatch = false, bodyOwned = false): KubeObject {
    const obj = this.checkBody(rt, body, bodyOwned);
    const meta = obj.metadata;
    if (meta.name !== undefined && meta.name !== name) throw errors.badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    if (rt.namespaced && meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace)
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const all = this.objects.get(rt) as Map<string, KubeObject>;
    const key = keyOf(rt.namespaced ? namespace : undefined, name);
    const cur = all.get(key);
    if (!cur) {
      if (rt.allowCreateOnUpdate && !subresource && !fromPatch) {
        delete meta.resourceVersion;
        return this.createShared(rt, namespace, { ...obj, metadata: { ...meta, name } }, true);
      }
      throw errors.notFound(rt.group, rt.plural, name);
    }
    const rv = meta.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== cur.metadata.resourceVersion)
      throw errors.conflict(rt.group, rt.plural, name, 'the object has been modified; please apply your changes to the latest version and try again');
    if ((rv === undefined || rv === '') && rt.custom && !fromPatch)
      throw errors.invalid(rt.group, rt.kind, name, [{ field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
    if (meta.uid !== undefined && meta.uid !== '' && meta.uid !== cur.metadata.uid)
      throw errors.conflict(rt.group, rt.plural, name, `Precondition failed: UID in precondition: ${cur.metadata.uid}, UID in object meta: ${meta.uid}`);

    let next: KubeObject;
    if (subresource === 'status') {
      next = structuredClone(cur);
      if (obj.status === undefined) delete next.status;
      else next.status = obj.status;
    } else {
      next = obj;
      if (rt.statusSubresource) {
        if (cur.status === undefined) delete next.status;
        else next.status = cur.status;
      }
    }
    const m = next.metadata;
    m.name = cur.metadata.name;
    if (rt.namespaced) m.namespace = cur.metadata.namespace;
    else delete m.namespace;
    m.uid = cur.metadata.uid;
    m.creationTimestamp = cur.metadata.creationTimestamp;
    m.generation = cur.metadata.generation;
    if (cur.metadata.deletionTimestamp) {
      m.deletionTimestamp = cur.metadata.deletionTimestamp;
      m.deletionGracePeriodSeconds = cur.metadata.deletionGracePeriodSeconds;
    } else {
      delete m.deletionTimestamp;
      delete m.deletionGracePeriodSeconds;
    }
    m.resourceVersion = cur.metadata.resourceVersion;
    this.validate(rt, next, cur);
    if (sameIgnoringRV(next, cur)) return cur;
    if (!sameSpec(next, cur)) m.generation = (cur.metadata.generation ?? 1) + 1;
    if (m.deletionTimestamp && (m.finalizers ?? []).length === 0) return this.remove(rt, key, next);
    m.resourceVersion = String(++this.rv);
    all.set(key, next);
    this.hub.emit({ rv: this.rv, rt, type: 'MODIFIED', object: next, old: cur });
    return next;
  }

  /** `patchOwned`: the caller hands `patch` over (the result may share parts of it), so nothing is copied twice. */
  patchShared(rt: ResourceType, namespace: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: 'status', patchOwned = false): KubeObject {
    if (type === 'strategic' && rt.custom) throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (strategic merge patch is not supported for custom resources)`);
    const cur = this.getShared(rt, namespace, name);
    const doc = structuredClone(cur) as unknown as Json;
    let patched: Json;
    try {
      if (type === 'json') patched = jsonPatch(doc, parseJsonPatch(patch as Json));
      else {
        if (!isObj(patch)) throw new PatchError('a merge patch must be a JSON object', 400);
        patched = type === 'merge' ? mergePatch(doc, patch as Json) : strategicMergePatch(doc, patch as Json);
      }
    } catch (err) {
      if (err instanceof PatchError) throw err.code === 400 ? errors.badRequest(err.message) : errors.unprocessable(err.message);
      throw err;
    }
    if (!isObj(patched) || !isObj(patched.metadata)) throw errors.unprocessable('the patch removed metadata');
    const pm = patched.metadata as Record<string, unknown>;
    if (pm.name !== cur.metadata.name) throw errors.invalid(rt.group, rt.kind, name, [{ field: 'metadata.name', message: `Invalid value: ${JSON.stringify(pm.name)}: field is immutable` }]);
    if (rt.namespaced && pm.namespace !== cur.metadata.namespace) throw errors.invalid(rt.group, rt.kind, name, [{ field: 'metadata.namespace', message: `Invalid value: ${JSON.stringify(pm.namespace)}: field is immutable` }]);
    if (pm.uid !== cur.metadata.uid) throw errors.invalid(rt.group, rt.kind, name, [{ field: 'metadata.uid', message: `Invalid value: ${JSON.stringify(pm.uid)}: field is immutable` }]);
    return this.updateShared(rt, namespace, name, patched, subresource, true, patchOwned);
  }

  deleteShared(rt: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): KubeObject {
    const cur = this.getShared(rt, namespace, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== cur.metadata.uid)
      throw errors.conflict(rt.group, rt.plural, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`);
    if (pre.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
      throw errors.conflict(rt.group, rt.plural, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`);
    const key = keyOf(rt.namespaced ? namespace : undefined, name);
    if (rt === this.nsType) {
      // Deleting a namespace deletes what is in it (at once: finalizers on its contents are not waited for).
      for (const [t, objs] of this.objects) {
        if (!t.namespaced) continue;
        for (const [k, o] of [...objs].sort(([a], [b]) => a.localeCompare(b))) if (o.metadata.namespace === name) this.remove(t, k, o);
      }
    }
    if ((cur.metadata.finalizers ?? []).length > 0) {
      if (cur.metadata.deletionTimestamp) return cur;
      const next: KubeObject = { ...cur, metadata: { ...cur.metadata, deletionTimestamp: timestamp(), deletionGracePeriodSeconds: 0, resourceVersion: String(++this.rv) } };
      (this.objects.get(rt) as Map<string, KubeObject>).set(key, next);
      this.hub.emit({ rv: this.rv, rt, type: 'MODIFIED', object: next, old: cur });
      return next;
    }
    return this.remove(rt, key, cur);
  }

  // Public writes hand back copies, like get(): the stored object stays out of callers' reach.
  create(rt: ResourceType, namespace: string | undefined, body: unknown): KubeObject {
    return structuredClone(this.createShared(rt, namespace, body));
  }

  update(rt: ResourceType, namespace: string | undefined, name: string, body: unknown, subresource?: 'status'): KubeObject {
    return structuredClone(this.updateShared(rt, namespace, name, body, subresource));
  }

  patch(rt: ResourceType, namespace: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: 'status'): KubeObject {
    return structuredClone(this.patchShared(rt, namespace, name, type, patch, subresource));
  }

  delete(rt: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): KubeObject {
    return structuredClone(this.deleteShared(rt, namespace, name, opts));
  }

  /** pods/binding: assigns an unscheduled pod to a node, as the scheduler does. */
  bind(rt: ResourceType, namespace: string, name: string, nodeName: string): void {
    const cur = this.getShared(rt, namespace, name);
    const spec = isObj(cur.spec) ? cur.spec : {};
    if (typeof spec.nodeName === 'string' && spec.nodeName !== '') throw errors.conflict(rt.group, rt.plural, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
    const next: KubeObject = { ...cur, spec: { ...spec, nodeName }, metadata: { ...cur.metadata, resourceVersion: String(++this.rv) } };
    (this.objects.get(rt) as Map<string, KubeObject>).set(keyOf(namespace, name), next);
    this.hub.emit({ rv: this.rv, rt, type: 'MODIFIED', object: next, old: cur });
  }

  /** A watch from `fromRV` (without one: the current objects as ADDED first); returns what ends it. */
  watch(rt: ResourceType, filter: Filter, sink: WatchSink, fromRV: number | undefined): () => void {
    return this.hub.watch(rt, filter, sink, fromRV, this.rv, () => this.listShared(rt, filter).items);
  }

  private remove(rt: ResourceType, key: string, cur: KubeObject): KubeObject {
    const gone: KubeObject = { ...cur, metadata: { ...cur.metadata, resourceVersion: String(++this.rv) } };
    (this.objects.get(rt) as Map<string, KubeObject>).delete(key);
    if (rt.kind === 'Service') releaseService(cur, this.alloc);
    this.hub.emit({ rv: this.rv, rt, type: 'DELETED', object: gone, old: cur });
    return gone;
  }

  private checkBody(rt: ResourceType, body: unknown, owned: boolean): KubeObject {
    if (!isObj(body)) throw errors.badRequest(`the request body must be a ${rt.kind} object`);
    const apiVersion = apiVersionOf(rt);
    if (body.kind !== undefined && body.kind !== rt.kind) throw errors.badRequest(`the body kind "${String(body.kind)}" does not match the resource kind "${rt.kind}"`);
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) throw errors.badRequest(`the body apiVersion "${String(body.apiVersion)}" does not match "${apiVersion}"`);
    if (body.metadata !== undefined && !isObj(body.metadata)) throw errors.badRequest('metadata must be an object');
    const obj = (owned ? body : structuredClone(body)) as KubeObject;
    obj.metadata ??= {};
    return { apiVersion, kind: rt.kind, ...obj };
  }

  private validate(rt: ResourceType, obj: KubeObject, old: KubeObject | undefined): void {
    this.alloc.begin();
    const causes = validateObject(rt, obj, old, this.alloc);
    if (causes.length) {
      this.alloc.rollback();
      throw errors.invalid(rt.group, rt.kind, obj.metadata.name ?? '', causes);
    }
  }
}
