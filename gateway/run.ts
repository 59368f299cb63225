// run: the long-lived gateway. One serial reconcile loop makes node and NB match the config and the services:
// triggered by Service/EndpointSlice events, NB changes (someone deleted our GR, a reconnect resynced the cache),
// while the localnet patch port is still missing, and every --resync-seconds. Each pass is idempotent and cheap
// when nothing changed (diffs against the NB cache, flows replaced only when different).
import { createServer, type Server } from 'node:http';
import type { KubeAccessOptions } from '../lib/kube/client.js';
import type { Logger } from '../lib/log.js';
import type { GatewayConfig } from './config.js';
import { Gateway } from './gateway.js';
import { watchServices, type ServiceWatch } from './kube.js';
import type { ChangeEvent } from '../lib/ovsdb/index.js';
import type { NBTables } from '../lib/ovsdb/models/nb.js';
import { applyLoadBalancers, connectNb, NotReadyError, relevantToGateway } from './nb.js';
import { gatewayLbs } from './services.js';
import { instrumentOvsdb, newRegistry, serveMetrics } from '../lib/metrics.js';
import { GatewayMetrics } from './metrics.js';
import { NodeEvents } from './events.js';

export interface RunOptions {
  resyncMs: number;
  /** How often to check that the bridge still has our flows (default 5 s). */
  flowCheckMs?: number;
  health?: { host: string; port: number };
}

export async function runGateway(cfg: GatewayConfig, access: KubeAccessOptions, opts: RunOptions, log: Logger): Promise<void> {
  const nb = await connectNb(cfg.nbRemotes, log, cfg.tls);
  const gw = new Gateway(cfg, nb, log);
  const registry = newRegistry();
  instrumentOvsdb(registry, 'nb', nb);
  const metrics = new GatewayMetrics(registry);
  const events = new NodeEvents(access, cfg.node, log);
  let watch: ServiceWatch | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  let plumbed = false;
  let healthy = false;
  let stopping = false;
  let failures = 0;

  const schedule = (delayMs = 100): void => {
    if (stopping || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void pass();
    }, delayMs);
  };

  const pass = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    again = false;
    let retryMs: number | undefined;
    const endTimer = metrics.passDuration.startTimer();
    try {
      if (!plumbed) {
        await gw.plumbNode();
        plumbed = true;
      }
      await gw.applyNb();
      if (watch?.services.hasSynced && watch.slices.hasSynced) {
        const { lbs, external } = gatewayLbs(watch.services.list(), watch.slices.list(), { node: cfg.node, physicalIp: cfg.physicalIp });
        const n = await applyLoadBalancers(nb, cfg.node, lbs);
        if (n > 0) log.info(`service load balancers on GR_${cfg.node} updated (${n} ops, ${lbs.length} LBs)`);
        gw.external = external;
      }
      await gw.applyFlows();
      if (cfg.mode === 'shared' && !(await gw.ovs.patchPortOn(cfg.bridge))) retryMs = 1000; // flows wait for the patch port
      healthy = true;
      failures = 0;
      metrics.passes.inc({ result: 'ok' });
      void events.ok();
    } catch (err) {
      healthy = false;
      failures++;
      retryMs = Math.min(500 * 2 ** Math.min(failures, 5), 15_000);
      const msg = (err as Error).message;
      if (err instanceof NotReadyError) {
        log.info(`waiting: ${msg}`, { retryMs });
        metrics.passes.inc({ result: 'waiting' });
      } else {
        log.error(`reconcile failed: ${msg}`, { retryMs });
        metrics.passes.inc({ result: 'error' });
        void events.failed(`gateway reconcile failed: ${msg}`);
      }
    } finally {
      running = false;
      endTimer();
    }
    if (again) schedule();
    else if (retryMs !== undefined) schedule(retryMs);
  };

  // Only changes that can affect this gateway: under pod churn the watcher rewrites switch ports all the time.
  nb.on('change', (ev: ChangeEvent<NBTables>) => {
    if (relevantToGateway(ev, cfg.node)) schedule(200);
  });
  nb.on('resynced', () => {
    gw.forgetFlows();
    schedule();
  });

  watch = watchServices(access, log, () => schedule(50));
  const resync = setInterval(() => {
    gw.forgetFlows();
    plumbed = false;
    schedule(0);
  }, opts.resyncMs);

  // Between passes: a restarted ovs-vswitchd has an empty flow table, which would otherwise wait for the resync.
  const flowCheck = setInterval(() => {
    if (running || timer) return;
    gw.flowsIntact().then(
      (ok) => {
        if (ok || stopping) return;
        log.warn(`flows on ${cfg.bridge} are missing (ovs-vswitchd restarted?): programming them again`);
        metrics.flowRepairs.inc();
        gw.forgetFlows();
        schedule(0);
      },
      () => undefined, // the bridge may be gone for a moment; the next pass reports real failures
    );
  }, opts.flowCheckMs ?? 5000);

  let server: Server | undefined;
  if (opts.health) {
    // /healthz: the process and its NB session are alive (liveness; waiting for the watcher is not a reason to
    // restart). /readyz: NB connected and the last reconcile pass succeeded. A 503 names what is missing.
    // /metrics: Prometheus.
    server = createServer((req, res) => {
      if (serveMetrics(registry, req, res)) return;
      if (req.url !== '/healthz' && req.url !== '/readyz') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      const why = !nb.connected ? 'OVN Northbound database not connected' : req.url === '/readyz' && !healthy ? 'last reconcile pass did not succeed' : undefined;
      res.writeHead(why ? 503 : 200, { 'content-type': 'text/plain' }).end(why ? `not ready: ${why}\n` : 'ok\n');
    });
    await new Promise<void>((r) => server!.listen(opts.health!.port, opts.health!.host, r));
  }

  schedule(0);
  void watch.start().then(() => {
    log.info('service informers synced');
    schedule(0);
  });

  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      if (stopping) return;
      stopping = true;
      log.info(`${sig}: stopping (the gateway's state stays in place; use cleanup to remove it)`);
      clearInterval(resync);
      clearInterval(flowCheck);
      clearTimeout(timer);
      void (async () => {
        await watch?.stop().catch(() => undefined);
        server?.close();
        nb.close();
        resolve();
      })();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
