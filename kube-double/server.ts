// HTTP front of the test double: authentication and RBAC (access.ts), listeners on TCP and/or unix sockets, and the paths that
// need no resource (health, version, discovery); handlers.ts serves the resources.
import http from 'node:http';
import fs from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { handleResource, type HandlerContext } from './handlers.js';
import { sendJson } from './http-io.js';
import { parseRoute } from './routes.js';
import { ApiError, errors } from './status.js';
import { Store, type StoreOptions } from './store.js';
import type { KubeObject } from './resources.js';
import type { UserInfo } from './rbac.js';
import { createAccess, createObjects, type Access } from './access.js';
import { handlePodUpgrade } from './pod-connect.js';

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
  /** Objects created at start, as an admin would (e.g. the RBAC of deploy/<component>/rbac.yaml: manifests.ts). */
  objects?: KubeObject[];
  /** Interval between BOOKMARK events on watches that ask for them. */
  bookmarkIntervalMs?: number;
  /** Request log, one line per request. */
  log?: (line: string) => void;
  /** The kubelet that pods/exec is proxied to (pod-connect.ts). */
  kubeletSocket?: string;
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

/** Routes one request: health and version need no token; everything else is discovery or a resource. */
async function handle(ctx: HandlerContext, access: Access, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
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
  await handleResource(ctx, req, res, route, url.searchParams);
}

interface Listeners {
  servers: http.Server[];
  sockets: Set<Socket>;
  urls: string[];
  unixPaths: string[];
}

/** One HTTP server per TCP address and unix socket, all serving `onRequest`; open sockets are tracked for close(). */
async function listen(opts: ApiServerOptions, onRequest: http.RequestListener, onUpgrade: (req: http.IncomingMessage, s: Socket, head: Buffer) => void): Promise<Listeners> {
  const servers: http.Server[] = [];
  const sockets = new Set<Socket>();
  const mk = () => {
    const s = http.createServer({ keepAliveTimeout: 30000 }, onRequest);
    s.on('upgrade', onUpgrade);
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
  return { servers, sockets, urls, unixPaths };
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const store = new Store(opts);
  const bookmarkMs = opts.bookmarkIntervalMs ?? 60000;
  const log = opts.log;
  const watches = new Set<() => void>();
  const ctx: HandlerContext = { store, watches, bookmarkMs };

  createObjects(store, opts.objects ?? []);
  const access = createAccess(store, opts.token, opts.identities);

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = Date.now();
    if (log) res.on('finish', () => log(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - started}ms`));
    handle(ctx, access, req, res)
      .catch((err: unknown) => {
        const apiErr = err instanceof ApiError ? err : errors.internal(err instanceof Error ? err.message : String(err));
        if (!res.headersSent) sendJson(res, apiErr.code, apiErr.toStatus());
        else res.destroy();
      });
  };

  const onUpgrade = (req: http.IncomingMessage, s: Socket, head: Buffer): void => {
    log?.(`${req.method} ${req.url} upgrade`);
    handlePodUpgrade({ store, access, kubeletSocket: opts.kubeletSocket }, req, s, head);
  };
  const { servers, sockets, urls, unixPaths } = await listen(opts, onRequest, onUpgrade);

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
              // An upgraded (exec) connection is no longer the HTTP server's to close, but it keeps close() waiting.
              for (const c of sockets) c.destroy();
            }),
        ),
      );
    },
  };
}
