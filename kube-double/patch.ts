// The three PATCH flavours the API server accepts: JSON merge patch (RFC 7386), strategic merge
// patch (Kubernetes' list-merging variant) and JSON patch (RFC 6902).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export class PatchError extends Error {
  /** 400 for a malformed patch document, 422 when it does not apply (failed test, missing path). */
  constructor(
    message: string,
    readonly code: 400 | 422,
  ) {
    super(message);
  }
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T extends Json>(v: T): T {
  return structuredClone(v);
}

// ---- RFC 7386 ----

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

// ---- strategic merge patch ----

/**
 * Lists that merge by key instead of being replaced, by path (array indices dropped), from the
 * patchStrategy/patchMergeKey tags of the core types the plugin touches. A key of '' marks a list of
 * scalars merged as a set (metadata.finalizers, spec.podCIDRs).
 */
export const MERGE_KEYS: Record<string, string> = {
  'metadata.finalizers': '',
  'metadata.ownerReferences': 'uid',
  'spec.containers': 'name',
  'spec.initContainers': 'name',
  'spec.ephemeralContainers': 'name',
  'spec.containers.ports': 'containerPort',
  'spec.initContainers.ports': 'containerPort',
  'spec.containers.env': 'name',
  'spec.initContainers.env': 'name',
  'spec.containers.volumeMounts': 'mountPath',
  'spec.initContainers.volumeMounts': 'mountPath',
  'spec.containers.volumeDevices': 'devicePath',
  'spec.volumes': 'name',
  'spec.imagePullSecrets': 'name',
  'spec.hostAliases': 'ip',
  'spec.topologySpreadConstraints': 'topologyKey',
  'spec.ports': 'port',
  'spec.podCIDRs': '',
  'status.conditions': 'type',
  'status.addresses': 'type',
  'status.podIPs': 'ip',
  'status.hostIPs': 'ip',
};

const DIRECTIVE = '$patch';
const SET_ORDER_PREFIX = '$setElementOrder/';
const DELETE_PRIMITIVE_PREFIX = '$deleteFromPrimitiveList/';
const RETAIN_KEYS = '$retainKeys';

export function strategicMergePatch(target: Json, patch: Json, path = ''): Json {
  if (!isObject(patch)) return clone(patch);
  const directive = patch[DIRECTIVE];
  if (directive === 'delete') return null;
  const base: JsonObject = isObject(target) ? { ...target } : {};
  if (directive === 'replace') {
    const { [DIRECTIVE]: _d, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (directive !== undefined) throw new PatchError(`unknown patch directive "${String(directive)}" at ${path || '/'}`, 400);
  const retain = patch[RETAIN_KEYS];
  for (const [k, v] of Object.entries(patch)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER_PREFIX)) continue;
    const childPath = path ? `${path}.${k}` : k;
    if (k.startsWith(DELETE_PRIMITIVE_PREFIX)) {
      const name = k.slice(DELETE_PRIMITIVE_PREFIX.length);
      if (!Array.isArray(v)) throw new PatchError(`${k} must be a list`, 400);
      const cur = base[name];
      if (Array.isArray(cur)) base[name] = cur.filter((x) => !v.some((d) => JSON.stringify(d) === JSON.stringify(x)));
      continue;
    }
    if (v === null) {
      delete base[k];
      continue;
    }
    const mergeKey = MERGE_KEYS[childPath];
    if (Array.isArray(v) && mergeKey !== undefined) {
      base[k] = mergeList(Array.isArray(base[k]) ? (base[k] as Json[]) : [], v, mergeKey, childPath);
    } else if (isObject(v)) {
      const merged = strategicMergePatch(base[k] ?? null, v, childPath);
      if (merged === null) delete base[k];
      else base[k] = merged;
    } else {
      base[k] = Array.isArray(v) ? (stripDirectives(v) as Json[]) : v;
    }
  }
  if (Array.isArray(retain)) {
    for (const k of Object.keys(base)) if (!retain.includes(k)) delete base[k];
  }
  return base;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER_PREFIX) || k.startsWith(DELETE_PRIMITIVE_PREFIX)) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

function mergeList(cur: Json[], patch: Json[], key: string, path: string): Json[] {
  // A list element {"$patch": "replace"} replaces the whole list with the other elements.
  if (patch.some((p) => isObject(p) && p[DIRECTIVE] === 'replace')) {
    return patch.filter((p) => !(isObject(p) && p[DIRECTIVE] === 'replace')).map(stripDirectives);
  }
  if (key === '') {
    const out = [...cur];
    for (const p of patch) if (!out.some((x) => JSON.stringify(x) === JSON.stringify(p))) out.push(p);
    return out;
  }
  const out = cur.map((x) => x);
  for (const p of patch) {
    if (!isObject(p)) throw new PatchError(`${path}: elements must be objects with merge key "${key}"`, 400);
    if (!(key in p)) throw new PatchError(`${path}: element is missing its merge key "${key}"`, 400);
    const idx = out.findIndex((x) => isObject(x) && JSON.stringify(x[key]) === JSON.stringify(p[key]));
    if (p[DIRECTIVE] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx], p, path);
    else out.push(stripDirectives(p));
  }
  return out;
}

// ---- RFC 6902 ----

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(ptr: string): string[] {
  if (ptr === '') return [];
  if (!ptr.startsWith('/')) throw new PatchError(`JSON pointer "${ptr}" must start with "/"`, 400);
  return ptr
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(arr: Json[], tok: string, forAdd: boolean, ptr: string): number {
  if (forAdd && tok === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(tok)) throw new PatchError(`"${tok}" is not an array index in "${ptr}"`, 422);
  const i = Number(tok);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new PatchError(`index ${i} out of range in "${ptr}"`, 422);
  return i;
}

function getAt(doc: Json, ptr: string): Json {
  let cur = doc;
  for (const tok of parsePointer(ptr)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, tok, false, ptr)];
    else if (isObject(cur) && tok in cur) cur = cur[tok];
    else throw new PatchError(`path "${ptr}" does not exist`, 422);
  }
  return cur;
}

/** Returns the parent container and last token, with the parent required to exist. */
function parentOf(doc: Json, ptr: string): { parent: Json; last: string } {
  const toks = parsePointer(ptr);
  if (toks.length === 0) throw new PatchError('the root cannot be the target here', 422);
  const last = toks.pop() as string;
  const parentPtr = toks.length ? '/' + toks.map((t) => t.replace(/~/g, '~0').replace(/\//g, '~1')).join('/') : '';
  return { parent: getAt(doc, parentPtr), last };
}

function addAt(doc: Json, ptr: string, value: Json): Json {
  if (ptr === '') return value;
  const { parent, last } = parentOf(doc, ptr);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true, ptr), 0, value);
  else if (isObject(parent)) parent[last] = value;
  else throw new PatchError(`parent of "${ptr}" is not a container`, 422);
  return doc;
}

function removeAt(doc: Json, ptr: string): Json {
  const { parent, last } = parentOf(doc, ptr);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false, ptr), 1);
  else if (isObject(parent) && last in parent) delete parent[last];
  else throw new PatchError(`path "${ptr}" does not exist`, 422);
  return doc;
}

function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

export function parseJsonPatch(body: Json): JsonPatchOp[] {
  if (!Array.isArray(body)) throw new PatchError('a JSON patch must be a list of operations', 400);
  return body.map((o, i) => {
    if (!isObject(o)) throw new PatchError(`operation ${i} is not an object`, 400);
    const op = o.op;
    if (typeof op !== 'string' || !['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op)) throw new PatchError(`operation ${i}: unknown op ${JSON.stringify(op)}`, 400);
    if (typeof o.path !== 'string') throw new PatchError(`operation ${i} (${op}): missing "path"`, 400);
    if ((op === 'move' || op === 'copy') && typeof o.from !== 'string') throw new PatchError(`operation ${i} (${op}): missing "from"`, 400);
    if ((op === 'add' || op === 'replace' || op === 'test') && !('value' in o)) throw new PatchError(`operation ${i} (${op}): missing "value"`, 400);
    return { op: op as JsonPatchOp['op'], path: o.path, ...(typeof o.from === 'string' ? { from: o.from } : {}), ...('value' in o ? { value: o.value } : {}) };
  });
}

export function jsonPatch(target: Json, ops: JsonPatchOp[]): Json {
  let doc = clone(target);
  for (const o of ops) {
    switch (o.op) {
      case 'add':
        doc = addAt(doc, o.path, clone(o.value as Json));
        break;
      case 'remove':
        doc = removeAt(doc, o.path);
        break;
      case 'replace':
        getAt(doc, o.path);
        if (o.path === '') doc = clone(o.value as Json);
        else doc = addAt(removeAt(doc, o.path), o.path, clone(o.value as Json));
        break;
      case 'move': {
        const v = getAt(doc, o.from as string);
        if (o.path.startsWith(`${o.from}/`)) throw new PatchError(`cannot move "${o.from}" into its own child "${o.path}"`, 422);
        doc = addAt(removeAt(doc, o.from as string), o.path, v);
        break;
      }
      case 'copy':
        doc = addAt(doc, o.path, clone(getAt(doc, o.from as string)));
        break;
      case 'test':
        if (!deepEqual(getAt(doc, o.path), o.value as Json)) throw new PatchError(`test operation failed: value at "${o.path}" is not ${JSON.stringify(o.value)}`, 422);
        break;
    }
  }
  return doc;
}
