// The double's request handlers for resources: watch streams, lists, and create/get/update/patch/delete/bind.
import type http from 'node:http';
import { apiVersionOf, type KubeObject } from './resources.js';
import { checkJsonContentType, readJson, sendJson, sendRaw } from './http-io.js';
import { filterFrom, listItem, parseRV, type Route } from './routes.js';
import { ApiError, errors } from './status.js';
import type { EventType, PatchType, Store } from './store.js';

const PATCH_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/json-patch+json': 'json',
};

/** What the handlers share with the server: the store, open watches (so they can be ended) and the bookmark interval. */
export interface HandlerContext {
  store: Store;
  /** One stop function per open watch stream. */
  watches: Set<() => void>;
  bookmarkMs: number;
}

function handleWatch({ store, watches, bookmarkMs }: HandlerContext, req: http.IncomingMessage, res: http.ServerResponse, route: Route, q: URLSearchParams): void {
  const filter = filterFrom(route.rt, q, route.namespace);
  if (route.name !== undefined) filter.fields.push({ field: 'metadata.name', op: '=', value: route.name });
  const sendInitial = q.get('sendInitialEvents') === 'true';
  const fromRV = sendInitial ? undefined : parseRV(q.get('resourceVersion'));
  const bookmarks = q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1';
  const timeoutSeconds = q.get('timeoutSeconds') ? Number(q.get('timeoutSeconds')) : undefined;
  if (timeoutSeconds !== undefined && !(timeoutSeconds >= 0)) throw errors.badRequest(`invalid timeoutSeconds "${q.get('timeoutSeconds')}"`);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  const apiVersion = apiVersionOf(route.rt);
  // Events are written once per event-loop turn, not one socket write each: a burst of requests
  // handled in one turn then costs each watch stream one write (a syscall and a wake-up of the
  // client) instead of one per event, which was the server's largest cost in a 1,000-pod burst.
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length && !res.writableEnded) res.write(pending.length === 1 ? pending[0] : pending.join(''));
    pending = [];
  };
  const write = (line: string) => {
    pending.push(line);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const bookmark = (extra?: Record<string, string>) =>
    write(`{"type":"BOOKMARK","object":${JSON.stringify({ kind: route.rt.kind, apiVersion, metadata: { resourceVersion: String(store.resourceVersion), ...(extra ? { annotations: extra } : {}) } })}}\n`);
  let cancel: () => void;
  try {
    cancel = store.watch(route.rt, filter, { send: (type: EventType, _ev, json) => write(`{"type":"${type}","object":${json}}\n`) }, fromRV);
  } catch (err) {
    // Too old: the real server answers 200 and sends a single ERROR event carrying the Status.
    if (err instanceof ApiError) {
      res.end(`{"type":"ERROR","object":${JSON.stringify(err.toStatus())}}\n`);
      return;
    }
    throw err;
  }
  if (sendInitial && bookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
  const timers: NodeJS.Timeout[] = [];
  const stop = () => {
    cancel();
    for (const t of timers) clearTimeout(t);
    watches.delete(stop);
    flush();
    if (!res.writableEnded) res.end();
  };
  watches.add(stop);
  if (bookmarks) timers.push(setInterval(() => bookmark(), bookmarkMs));
  if (timeoutSeconds !== undefined) timers.push(setTimeout(stop, timeoutSeconds * 1000));
  res.on('close', stop);
  req.on('close', stop);
}

function handleList({ store }: HandlerContext, res: http.ServerResponse, route: Route, q: URLSearchParams): void {
  const filter = filterFrom(route.rt, q, route.namespace);
  const rvParam = q.get('resourceVersion');
  const match = q.get('resourceVersionMatch');
  const rv = parseRV(rvParam);
  if (match !== null && match !== '') {
    if (rvParam === null || rvParam === '') throw errors.badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (match !== 'Exact' && match !== 'NotOlderThan') throw errors.badRequest(`unsupported resourceVersionMatch "${match}"`);
  }
  const current = store.resourceVersion;
  if (rv !== undefined && rv > current) throw errors.tooLargeResourceVersion(rv, current);
  // Only the latest state is kept: an Exact list of an older version has nothing to answer with.
  if (match === 'Exact' && rv !== undefined && rv !== current) throw errors.gone(`The resourceVersion for the provided list is too old.`);
  let { items } = store.listShared(route.rt, filter);
  const limit = q.get('limit') ? Number(q.get('limit')) : 0;
  const cont = q.get('continue');
  const meta: Record<string, unknown> = { resourceVersion: String(current) };
  const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  if (cont) {
    let after: string;
    try {
      after = (JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as { after: string }).after;
      if (typeof after !== 'string') throw new Error('bad token');
    } catch {
      throw errors.badRequest('continue key is not valid');
    }
    items = items.filter((o) => keyOf(o) > after);
  }
  if (limit > 0 && items.length > limit) {
    meta.remainingItemCount = items.length - limit;
    items = items.slice(0, limit);
    meta.continue = Buffer.from(JSON.stringify({ after: keyOf(items[items.length - 1]) })).toString('base64url');
  }
  sendJson(res, 200, { kind: `${route.rt.kind}List`, apiVersion: apiVersionOf(route.rt), metadata: meta, items: items.map((o) => listItem(route.rt, o)) });
}

export async function handleResource(ctx: HandlerContext, req: http.IncomingMessage, res: http.ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
  const { rt, name } = route;
  const method = req.method ?? 'GET';
  let sub: 'status' | undefined;
  if (route.subresource !== undefined) {
    if (route.subresource === 'status' && rt.statusSubresource) sub = 'status';
    else if (!(route.subresource === 'binding' && rt.kind === 'Pod' && method === 'POST')) throw errors.notFound(rt.group, `${rt.plural}/${route.subresource}`, name ?? '');
  }
  const isWatch = route.legacyWatch || q.get('watch') === 'true' || q.get('watch') === '1';
  // Better a clear refusal than persisting what the caller meant as a dry run.
  if (method !== 'GET' && q.has('dryRun')) throw errors.badRequest('dryRun is not supported by the API test double');
  if (name === undefined) return handleCollection(ctx, req, res, route, q, isWatch);
  if (isWatch && method === 'GET') return handleWatch(ctx, req, res, route, q);
  return handleObject(ctx, req, res, { ...route, name }, sub);
}

async function handleCollection(ctx: HandlerContext, req: http.IncomingMessage, res: http.ServerResponse, route: Route, q: URLSearchParams, isWatch: boolean): Promise<void> {
  const { store } = ctx;
  const { rt, namespace } = route;
  const method = req.method ?? 'GET';
  if (method === 'GET') return isWatch ? handleWatch(ctx, req, res, route, q) : handleList(ctx, res, route, q);
  if (method === 'POST') {
    if (rt.namespaced && namespace === undefined) throw errors.methodNotAllowed(`create ${rt.plural} needs a namespace in the path`);
    checkJsonContentType(req);
    // The parsed body is ours to keep; the response reuses the JSON the watch events were sent with.
    return sendRaw(res, 201, store.json(store.createShared(rt, namespace, await readJson(req), true)));
  }
  if (method === 'DELETE') {
    const filter = filterFrom(rt, q, namespace);
    const deleted = store.listShared(rt, filter).items.map((o) => store.deleteShared(rt, o.metadata.namespace, o.metadata.name as string));
    return sendJson(res, 200, { kind: `${rt.kind}List`, apiVersion: apiVersionOf(rt), metadata: { resourceVersion: String(store.resourceVersion) }, items: deleted.map((o) => listItem(rt, o)) });
  }
  throw errors.methodNotAllowed(`${method} is not supported on a collection`);
}

async function handleObject(ctx: HandlerContext, req: http.IncomingMessage, res: http.ServerResponse, route: Route & { name: string }, sub: 'status' | undefined): Promise<void> {
  const { store } = ctx;
  const { rt, namespace, name } = route;
  const method = req.method ?? 'GET';
  switch (method) {
    case 'GET':
      return sendRaw(res, 200, store.json(store.getShared(rt, namespace, name)));
    case 'PUT':
      checkJsonContentType(req);
      return sendRaw(res, 200, store.json(store.updateShared(rt, namespace, name, await readJson(req), sub, false, true)));
    case 'PATCH': {
      const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      const type = PATCH_TYPES[ct];
      if (!type) throw errors.unsupportedMediaType(ct);
      const body = await readJson(req);
      if (body === undefined) throw errors.badRequest('the patch body is empty');
      return sendRaw(res, 200, store.json(store.patchShared(rt, namespace, name, type, body, sub, true)));
    }
    case 'DELETE': {
      const body = (await readJson(req)) as { preconditions?: { uid?: string; resourceVersion?: string } } | undefined;
      const obj = store.deleteShared(rt, namespace, name, { preconditions: body?.preconditions });
      if (rt.returnDeletedObject || obj.metadata.deletionTimestamp) return sendJson(res, 200, obj);
      return sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: rt.group, kind: rt.plural, uid: obj.metadata.uid } });
    }
    case 'POST': {
      // pods/<name>/binding
      const body = (await readJson(req)) as { target?: { name?: string } } | undefined;
      const node = body?.target?.name;
      if (typeof node !== 'string' || node === '') throw errors.invalid('', 'Binding', name, [{ field: 'target.name', message: 'Required value' }]);
      store.bind(rt, namespace as string, name, node);
      return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    default:
      throw errors.methodNotAllowed(`${method} is not supported`);
  }
}
