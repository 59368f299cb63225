// Prometheus metrics shared by the daemons: one registry per process (never prom-client's global one, so tests
// and libraries cannot leak metrics into it), the /metrics handler for the health listener, and the OVSDB client
// metrics, fed from the client's own events and cache so lib/ovsdb knows nothing of Prometheus.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/** Every metric name starts with this. */
export const PREFIX = 'tessera_';

/** Seconds buckets from 1 ms to 60 s: CNI calls, syncs and NB transactions all fall in this range. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** A histogram tessera_<name> of seconds, with LATENCY_BUCKETS. */
export function latencyHistogram<L extends string = string>(reg: Registry, name: string, help: string, labelNames: readonly L[] = []): Histogram<L> {
  return new Histogram({ name: PREFIX + name, help, labelNames, buckets: LATENCY_BUCKETS, registers: [reg] });
}

/** A counter tessera_<name>. */
export function counter<L extends string = string>(reg: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return new Counter({ name: PREFIX + name, help, labelNames, registers: [reg] });
}

/** A gauge tessera_<name> that `read` sets at scrape time, so nothing is kept up to date between scrapes. */
export function scrapedGauge<L extends string = string>(reg: Registry, name: string, help: string, labelNames: readonly L[], read: (g: Gauge<L>) => void): Gauge<L> {
  return new Gauge({
    name: PREFIX + name, help, labelNames, registers: [reg],
    collect() {
      read(this);
    },
  });
}

/** A registry with the process metrics (CPU, RSS, event-loop lag, ...) under tessera_process_* and friends. */
export function newRegistry(opts: { processMetrics?: boolean } = {}): Registry {
  const reg = new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: reg, prefix: PREFIX });
  return reg;
}

/**
 * The metric `name` of the registry, created by make() the first time: several callers (two OVSDB clients of one
 * daemon) share one metric family instead of failing on the duplicate name.
 */
export function metricOnce<M extends Metric>(reg: Registry, name: string, make: () => M): M {
  return (reg.getSingleMetric(name) as M | undefined) ?? make();
}

/** Answers GET /metrics from the registry; returns false for any other path so the caller serves it. */
export function serveMetrics(reg: Registry, req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? '').split('?')[0];
  if (path !== '/metrics') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed\n');
    return true;
  }
  reg.metrics().then(
    (text) => res.writeHead(200, { 'content-type': reg.contentType }).end(req.method === 'HEAD' ? undefined : text),
    (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${err.message}\n`),
  );
  return true;
}

/** What the OVSDB metrics need of a client (lib/ovsdb OvsdbClient fits). */
export interface MonitoredClient {
  on(event: 'connected', listener: (remote: string) => void): unknown;
  on(event: 'resynced', listener: (remote: string) => void): unknown;
  readonly connected: boolean;
  readonly cache: { monitoredTables(): string[]; size(table: never): number };
}

/**
 * tessera_ovsdb_reconnects_total, tessera_ovsdb_connected and tessera_ovsdb_monitor_rows for one client, labelled
 * with `db` (e.g. "nb", "ovs"). Rows are counted at scrape time from the cache, so nothing is done per update.
 */
export function instrumentOvsdb(reg: Registry, db: string, client: MonitoredClient): void {
  const reconnects = metricOnce(reg, `${PREFIX}ovsdb_reconnects_total`, () =>
    counter(reg, 'ovsdb_reconnects_total', 'OVSDB sessions re-established after a lost connection (the cache is then resynced).', ['db']));
  reconnects.inc({ db }, 0);
  client.on('resynced', () => reconnects.inc({ db }));
  ovsdbClients(reg).set(db, client);
}

const clientMaps = new WeakMap<Registry, Map<string, MonitoredClient>>();

/** The clients of a registry, behind the two scrape-time gauges (registered once per registry). */
function ovsdbClients(reg: Registry): Map<string, MonitoredClient> {
  const have = clientMaps.get(reg);
  if (have) return have;
  const clients = new Map<string, MonitoredClient>();
  clientMaps.set(reg, clients);
  scrapedGauge(reg, 'ovsdb_connected', '1 while the OVSDB session is up, else 0.', ['db'], (g) => {
    for (const [db, c] of clients) g.set({ db }, c.connected ? 1 : 0);
  });
  scrapedGauge(reg, 'ovsdb_monitor_rows', 'Rows held in the OVSDB client cache per monitored table.', ['db', 'table'], (g) => {
    g.reset();
    for (const [db, c] of clients) for (const table of c.cache.monitoredTables()) g.set({ db, table }, c.cache.size(table as never));
  });
  return clients;
}
