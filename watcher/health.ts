// The watcher's /healthz, /readyz, /stats and /metrics (Prometheus). /readyz answers 200 only while the watcher can do its job:
// the leader needs its NB session, synced informers and master-init done; a standby (not leading) needs
// its NB session, so that it could take over (its informers start when it does; the Lease loop itself
// proves the API). A 503 names the first missing dependency.
import http from 'node:http';
import { serveMetrics, type Registry } from '../lib/metrics.js';

export interface WatcherHealth {
  leading: () => boolean;
  nbConnected: () => boolean;
  informersSynced: () => boolean;
  /** master-init and the controllers' start are done. */
  started: () => boolean;
  stats: () => Record<string, unknown>;
}

/** Why the watcher is not ready, or undefined when it is. */
export function watcherNotReady(h: WatcherHealth): string | undefined {
  if (!h.nbConnected()) return 'OVN Northbound database not connected';
  if (!h.leading()) return undefined;
  if (!h.informersSynced()) return 'informers not synced';
  if (!h.started()) return 'master-init and controllers not started';
  return undefined;
}

export function startWatcherHealth(listen: { host: string; port: number }, h: WatcherHealth, metrics?: Registry): http.Server {
  const srv = http.createServer((req, res) => {
    if (metrics && serveMetrics(metrics, req, res)) return;
    const body = (code: number, v: unknown) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(v));
    };
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz') return body(200, { ok: true });
    if (path === '/readyz') {
      const reason = watcherNotReady(h);
      return body(reason ? 503 : 200, { ready: !reason, leading: h.leading(), ...(reason ? { reason } : {}) });
    }
    if (path === '/stats') return body(200, { leading: h.leading(), ready: !watcherNotReady(h), ...h.stats() });
    body(404, { error: 'not found' });
  });
  srv.listen(listen.port, listen.host);
  srv.unref();
  return srv;
}
