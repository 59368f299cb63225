// pods/exec, as kube-apiserver serves it: the request is authenticated and authorized (RBAC `create` on pods/exec,
// for the WebSocket GET too, as servers with AuthorizePodWebsocketUpgradeCreatePermission require), the pod must
// exist and run, and then the upgrade is proxied byte for byte to the kubelet of the pod's node, which speaks the
// exec protocol (v5/v4.channel.k8s.io) itself: GET /exec/<namespace>/<pod>/<container>?command=...
// The double has no node addresses to dial, so one kubelet socket (--kubelet-socket, the lab's kubelet) serves all.
import type http from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Access } from './access.js';
import { parseRoute } from './routes.js';
import { ApiError, errors } from './status.js';
import type { Store } from './store.js';

export interface PodConnectOptions {
  store: Store;
  access: Access;
  /** Unix socket of the kubelet that runs the pods (the lab's kubelet); unset: exec answers 500 as with no kubelet. */
  kubeletSocket?: string;
}

/** The hop-by-hop and credential headers the proxy does not pass on (the kubelet trusts the API server, not the user). */
const DROP = new Set(['authorization', 'host', 'content-length']);

function refuse(socket: Socket, e: ApiError): void {
  const body = JSON.stringify(e.toStatus());
  socket.end(`HTTP/1.1 ${e.code} ${e.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The kubelet request line and headers for an authorized exec upgrade. */
export function kubeletRequest(req: http.IncomingMessage, ns: string, pod: string, container: string, q: URLSearchParams): string {
  const query = new URLSearchParams(q);
  query.delete('container');
  const lines = [`GET /exec/${encodeURIComponent(ns)}/${encodeURIComponent(pod)}/${encodeURIComponent(container)}?${query.toString()} HTTP/1.1`, 'Host: kubelet'];
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (!DROP.has(req.rawHeaders[i].toLowerCase())) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

function authorizedPod(o: PodConnectOptions, req: http.IncomingMessage, url: URL): { ns: string; name: string; container: string } {
  const user = o.access.authenticate(req);
  if (!user) throw errors.unauthorized();
  const route = parseRoute(url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent));
  if (!route || 'discovery' in route || route.rt.kind !== 'Pod' || route.subresource !== 'exec' || !route.namespace || !route.name) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
  if (req.method !== 'GET' && req.method !== 'POST') throw errors.methodNotAllowed(`${req.method} is not supported on pods/exec`);
  o.access.check(user, 'POST', route, url.searchParams);
  const pod = o.store.get(route.rt, route.namespace, route.name) as { spec?: { containers?: Array<{ name: string }> }; status?: { phase?: string } };
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  const container = url.searchParams.get('container') ?? (names.length === 1 ? names[0] : '');
  if (!container) throw errors.badRequest(`a container name must be specified for pod ${route.name}, choose one of: [${names.join(' ')}]`);
  if (!names.includes(container)) throw errors.badRequest(`container ${container} is not valid for pod ${route.name}`);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw errors.badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  if (!url.searchParams.getAll('command').length) throw errors.badRequest('you must specify at least 1 command');
  return { ns: route.namespace, name: route.name, container };
}

/** The server's 'upgrade' handler: pods/exec over WebSocket; anything else is refused with a Status. */
export function handlePodUpgrade(o: PodConnectOptions, req: http.IncomingMessage, socket: Socket, head: Buffer): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  let target: { ns: string; name: string; container: string };
  try {
    target = authorizedPod(o, req, url);
  } catch (err) {
    return refuse(socket, err instanceof ApiError ? err : errors.internal(String(err)));
  }
  if (!o.kubeletSocket) return refuse(socket, errors.internal(`error dialing backend: no kubelet for pod ${target.ns}/${target.name}`));
  const kubelet = connect(o.kubeletSocket);
  kubelet.once('error', (e) => (kubelet.bytesRead ? socket.destroy() : refuse(socket, errors.internal(`error dialing backend: ${e.message}`))));
  kubelet.once('connect', () => {
    kubelet.write(kubeletRequest(req, target.ns, target.name, target.container, url.searchParams));
    if (head.length) kubelet.write(head);
    kubelet.pipe(socket);
    socket.pipe(kubelet);
  });
  socket.once('error', () => kubelet.destroy());
  socket.once('close', () => kubelet.destroy());
  kubelet.once('close', () => socket.end());
}
