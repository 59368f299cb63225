// /healthz (the process serves) and /readyz (informer synced, OVSDB connected, node init done, ovn-controller
// connected to the Southbound database); a 503 names what is missing. /metrics: Prometheus.
import { createServer, type Server } from 'node:http';
import { serveMetrics, type Registry } from '../lib/metrics.js';

export function startHealthServer(host: string, port: number, notReady: () => string | undefined | Promise<string | undefined>, metrics?: Registry): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (metrics && serveMetrics(metrics, req, res)) return;
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const why = await notReady();
      res.writeHead(why ? 503 : 200, { 'content-type': 'text/plain' }).end(why ? `not ready: ${why}\n` : 'ok\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
