// HTTP front of the test double: Kubernetes REST paths, query parameters, status codes and the
// chunked watch stream, on TCP and/or unix sockets.
import http from 'node:http';
import fs from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { apiGroup, apiGroupList, apiVersionOf, findResource, groupVersions, resourceList, type KubeObject, type ResourceType } from './resources.js';
import { ApiError, errors } from './status.js';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js';
import { Store, type EventType, type Filter, type PatchType, type StoreOptions } from './store.js';
import type { UserInfo } from './rbac.js';
import { createAccess, createObjects } from './access.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface ApiServerOptions extends StoreOptions {
  /** TCP listeners; port 0 picks a free port. Default: 127.0.0.1:0 unless unix sockets are given. */
  listen?: ListenAddress[];
  unix?: string[];
  /** Bearer token every request must carry (except /healthz, /livez, /readyz, /version). No auth when unset. */
  token?: string;
  /**
   * Tokens of other identities (service accounts: serviceAccountUser in rbac.ts). Their requests are authorized,
   * strictly, by the Role/ClusterRole/RoleBinding/ClusterRoleBinding objects in the store; `token` is the admin.
   */
  identities?: Array<{ token: string; user: UserInfo }>;
  /** Objects created at start, as an admin would (e.g. the RBAC of deploy/<component>/rbac.yaml: deploy-rbac.ts). */
  objects?: KubeObject[];
  /** Interval between BOOKMARK events on watches that ask for them. */
  bookmarkIntervalMs?: number;
  /** Request log, one line per request. */
  log?: (line: string) => void;
}

export interface ApiServer {
  store: Store;
  /** http:// URLs of the TCP listeners, in the order given. */
  urls: string[];
  /** First TCP URL (or '' when only unix sockets). */
  url: string;
  unixPaths: string[];
  /** Ends every open watch stream, as a real server does on restart or timeout (tests use it). */
  dropWatches(): void;
  /**
   * Replaces the accepted bearer tokens (rotation, revocation) of the admin, or of `user` (an identity): a request
   * with any other token gets 401. Open watches go on, as on a real server, which checks a token when a request starts.
   */
  setTokens(tokens: string[], user?: UserInfo): void;
  close(): Promise<void>;
}

const MAX_BODY = 3 * 1024 * 1024;
const PATCH_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/json-patch+json': 'json',
};

interface Route {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** /api/v1/watch/... legacy watch path. */
  legacyWatch: boolean;
}

function sendJson(res: http.ServerResponse, code: number, body: unknown): void {
  sendRaw(res, code, JSON.stringify(body));
}

function sendRaw(res: http.ServerResponse, code: number, data: string): void {
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, 'RequestEntityTooLarge', 'the request body is too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw errors.badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}

function parseRoute(segments: string[]): Route | { discovery: unknown } | undefined {
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

function filterFrom(rt: ResourceType, q: URLSearchParams, namespace: string | undefined): Filter {
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

function parseRV(v: string | null): number | undefined {
  if (v === null || v === '' || v === '0') return undefined;
  if (!/^\d+$/.test(v)) throw errors.badRequest(`invalid resource version "${v}"`);
  return Number(v);
}

/** List items of built-in kinds carry no kind/apiVersion, as the real server sends them; custom resources keep theirs. */
function listItem(rt: ResourceType, o: KubeObject): KubeObject {
  if (rt.custom) return o;
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return rest as KubeObject;
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const store = new Store(opts);
  const bookmarkMs = opts.bookmarkIntervalMs ?? 60000;
  const log = opts.log;
  const watches = new Set<() => void>();

  createObjects(store, opts.objects ?? []);
  const access = createAccess(store, opts.token, opts.identities);

  function handleWatch(req: http.IncomingMessage, res: http.ServerResponse, route: Route, q: URLSearchParams): void {
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

  function handleList(res: http.ServerResponse, route: Route, q: URLSearchParams): void {
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

  async function handleResource(req: http.IncomingMessage, res: http.ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
    const { rt, namespace, name } = route;
    const method = req.method ?? 'GET';
    let sub: 'status' | undefined;
    if (route.subresource !== undefined) {
      if (route.subresource === 'status' && rt.statusSubresource) sub = 'status';
      else if (!(route.subresource === 'binding' && rt.kind === 'Pod' && method === 'POST')) throw errors.notFound(rt.group, `${rt.plural}/${route.subresource}`, name ?? '');
    }
    const isWatch = route.legacyWatch || q.get('watch') === 'true' || q.get('watch') === '1';
    // Better a clear refusal than persisting what the caller meant as a dry run.
    if (method !== 'GET' && q.has('dryRun')) throw errors.badRequest('dryRun is not supported by the API test double');
    if (name === undefined) {
      if (method === 'GET') return isWatch ? handleWatch(req, res, route, q) : handleList(res, route, q);
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
    if (isWatch && method === 'GET') return handleWatch(req, res, route, q);
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

  function checkJsonContentType(req: http.IncomingMessage): void {
    const ct = (req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
    if (ct !== 'application/json' && ct !== '') throw errors.unsupportedMediaType(ct);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (path === '/version') return sendJson(res, 200, { major: '1', minor: '30', gitVersion: 'v1.30.0-tessera-testdouble', platform: `${process.platform}/${process.arch}` });
    const user = access.authenticate(req);
    if (!user) throw errors.unauthorized();
    const segments = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
    const route = parseRoute(segments);
    if (!route) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if ('discovery' in route) {
      if (req.method !== 'GET') throw errors.methodNotAllowed(`${req.method} is not supported on discovery`);
      return sendJson(res, 200, route.discovery);
    }
    access.check(user, req.method ?? 'GET', route, url.searchParams);
    await handleResource(req, res, route, url.searchParams);
  }

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = Date.now();
    if (log) res.on('finish', () => log(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - started}ms`));
    handle(req, res)
      .catch((err: unknown) => {
        const apiErr = err instanceof ApiError ? err : errors.internal(err instanceof Error ? err.message : String(err));
        if (!res.headersSent) sendJson(res, apiErr.code, apiErr.toStatus());
        else res.destroy();
      });
  };

  const servers: http.Server[] = [];
  const sockets = new Set<Socket>();
  const mk = () => {
    const s = http.createServer({ keepAliveTimeout: 30000 }, onRequest);
    s.on('connection', (c: Socket) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
    });
    servers.push(s);
    return s;
  };
  const listenOn = (s: http.Server, arg: ListenAddress | string) =>
    new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      if (typeof arg === 'string') s.listen(arg, () => resolve());
      else s.listen(arg.port, arg.host, () => resolve());
    });

  const urls: string[] = [];
  const unixPaths = opts.unix ?? [];
  const tcp = opts.listen ?? (unixPaths.length ? [] : [{ host: '127.0.0.1', port: 0 }]);
  try {
    for (const addr of tcp) {
      const s = mk();
      await listenOn(s, addr);
      const a = s.address() as AddressInfo;
      urls.push(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
    }
    for (const p of unixPaths) {
      // A stale socket file from a killed run would make listen fail with EADDRINUSE.
      try {
        if (fs.statSync(p).isSocket()) fs.unlinkSync(p);
      } catch {
        /* absent */
      }
      await listenOn(mk(), p);
    }
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }

  return {
    store,
    urls,
    url: urls[0] ?? '',
    unixPaths,
    dropWatches: () => {
      for (const stop of [...watches]) stop();
    },
    setTokens: (tokens, user) => access.setTokens(tokens, user),
    close: async () => {
      for (const stop of [...watches]) stop();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      for (const c of sockets) c.destroy();
    },
  };
}
