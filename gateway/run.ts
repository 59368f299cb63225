// run: the long-lived gateway. One serial reconcile pass (lib/workqueue, one key) makes node and NB match the
// config and the services: triggered by Service/EndpointSlice events, NB changes (a reconnect resynced the cache,
// the cluster's topology moved), while the localnet patch port is still missing, and every --resync-seconds.
// Another writer's change to a row of this gateway (its router, ports, routes, NATs, LBs) goes through drift
// repair (lib/drift): rate-limited, logged, an Event on the Node, backoff when fought over. Each pass is
// idempotent and cheap when nothing changed (diffs against the NB cache, flows replaced only when different).
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
import { WorkQueue } from '../lib/workqueue.js';
import { OwnWrites } from '../lib/drift/own-writes.js';
import { DriftRepair } from '../lib/drift/repair.js';
import { gatewayRouter, isGatewayOurs, ROLE_KEY } from '../lib/ovn/names.js';
import { egressSubnets, natOutgoingOf, watchSubnets } from './subnets.js';

const PASS = 'pass';

export interface RunOptions {
  resyncMs: number;
  /** How often to check that the bridge still has our flows (default 5 s). */
  flowCheckMs?: number;
  health?: { host: string; port: number };
}

export async function runGateway(cfg: GatewayConfig, access: KubeAccessOptions, opts: RunOptions, log: Logger): Promise<void> {
  const ownerOf = (ids: Record<string, string> | undefined): string | undefined =>
    (isGatewayOurs(ids, cfg.node) ? `gateway ${cfg.node}` : undefined);
  const raw = await connectNb(cfg.nbRemotes, log, cfg.tls);
  const own = new OwnWrites(ownerOf, raw.cache);
  const nb = own.wrap(raw);
  const gw = new Gateway(cfg, nb, log);
  const registry = newRegistry();
  instrumentOvsdb(registry, 'nb', nb);
  const metrics = new GatewayMetrics(registry);
  const events = new NodeEvents(access, cfg.node, log);
  let watch: ServiceWatch | undefined;
  const subnets = watchSubnets(access, log, () => schedule(50));
  let plumbed = false;
  let healthy = false;
  let stopping = false;

  // Failures retry with the queue's backoff (1 s doubling to 15 s); an add while a pass runs re-runs it after.
  const queue: WorkQueue = new WorkQueue(() => pass(), { name: 'gateway', workers: 1, baseDelayMs: 1000, maxDelayMs: 15_000 });
  const schedule = (delayMs = 100): void => queue.addAfter(PASS, delayMs);
  const drift = new DriftRepair<string>({
    ownerOf,
    targets: { gateway: { sync: () => queue.addAndWait(PASS), ref: () => cfg.node } },
    own,
    log,
    event: (_node, type, reason, message) => events.report(type, reason, message),
  });

  /** Whether GR_<node> has this gateway's SNAT of a default-Vpc Subnet's CIDR (kept until the Subnets are listed). */
  const snatted = (cidr: string): boolean => {
    const gr = raw.cache.lookup('Logical_Router', 'name', gatewayRouter(cfg.node));
    return (gr?.nat ?? []).some((u) => {
      const n = raw.cache.get('NAT', u);
      return n?.logical_ip === cidr && isGatewayOurs(n.external_ids, cfg.node) && n.external_ids[ROLE_KEY] === 'subnet-snat';
    });
  };

  const pass = async (): Promise<void> => {
    let retryMs: number | undefined;
    const endTimer = metrics.passDuration.startTimer();
    try {
      if (!plumbed) {
        await gw.plumbNode();
        plumbed = true;
      }
      gw.subnets = egressSubnets(raw.cache.list('Logical_Switch'), natOutgoingOf(subnets.hasSynced, (n) => subnets.get(n), snatted));
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
      metrics.passes.inc({ result: 'ok' });
      void events.ok();
    } catch (err) {
      healthy = false;
      const msg = (err as Error).message;
      if (err instanceof NotReadyError) {
        log.info(`waiting: ${msg}`);
        metrics.passes.inc({ result: 'waiting' });
      } else {
        log.error(`reconcile failed: ${msg}`);
        metrics.passes.inc({ result: 'error' });
        void events.failed(`gateway reconcile failed: ${msg}`);
      }
      throw err;
    } finally {
      endTimer();
    }
    if (retryMs !== undefined) schedule(retryMs);
  };

  // Rows of this gateway: drift repair (our own writes are ignored there). Other rows only where they can affect
  // this gateway: under pod churn the watcher rewrites switch ports all the time.
  nb.on('change', (ev: ChangeEvent<NBTables>) => {
    const ids = (r: { external_ids?: Record<string, string> } | undefined) => r?.external_ids;
    if (ownerOf(ids(ev.old as never)) ?? ownerOf(ids(ev.row as never))) drift.observe(ev);
    else if (relevantToGateway(ev, cfg.node)) schedule(200);
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
    if (queue.length > 0) return;
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
  void subnets.start().then(() => subnets.synced).then(() => schedule(0));
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
      drift.stop();
      queue.shutdown();
      void (async () => {
        await watch?.stop().catch(() => undefined);
        await subnets.stop().catch(() => undefined);
        server?.close();
        nb.close();
        resolve();
      })();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
