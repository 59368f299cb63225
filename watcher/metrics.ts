// The watcher's Prometheus metrics. Labels are bounded: controller, stage, and per node subnet the node's switch
// and CIDR (one series per node, as kube-state-metrics has); never a pod name. Gauges read their state at scrape
// time from the sources main.ts hands over, so nothing is counted twice.
import { counter, latencyHistogram, scrapedGauge, type Counter, type Histogram, type Registry } from '../lib/metrics.js';
import type { Op } from '../lib/ovsdb/ops.js';
import type { NbClient } from '../lib/ovn/commit.js';

export interface WatcherSources {
  leading(): boolean;
  /** Keys waiting, running or waiting to retry, per controller. */
  queueDepths(): Record<string, number>;
  /** Pod addresses per node switch. */
  ipam(): Array<{ ls: string; subnet: string; used: number; free: number }>;
  /** Node subnets of the cluster CIDR. */
  nodeSubnets(): { used: number; free: number };
}

export class WatcherMetrics {
  readonly syncDuration: Histogram<'controller'>;
  readonly syncErrors: Counter<'controller'>;
  readonly podLatency: Histogram<'stage'>;
  readonly nbTxn: Histogram<'result'>;
  private sources?: WatcherSources;

  constructor(reg: Registry) {
    this.syncDuration = latencyHistogram(reg, 'watcher_sync_duration_seconds',
      'Duration of one controller sync of one object (node, pod, service, networkpolicy).', ['controller']);
    this.syncErrors = counter(reg, 'watcher_sync_errors_total', 'Controller syncs that failed (each is retried with backoff).', ['controller']);
    this.podLatency = latencyHistogram(reg, 'watcher_pod_latency_seconds',
      'From the watcher seeing a scheduled pod without a network to its port committed in NB (stage nb) and to its annotation written (stage annotated).', ['stage']);
    this.nbTxn = latencyHistogram(reg, 'watcher_nb_transaction_duration_seconds',
      'Northbound database transactions of the controllers, from sending to the reply, by result (ok or error).', ['result']);
    const src = (): WatcherSources | undefined => this.sources;
    scrapedGauge(reg, 'watcher_leader', '1 while this replica holds the leader Lease (and runs the controllers), else 0.', [], (g) => g.set(src()?.leading() ? 1 : 0));
    scrapedGauge(reg, 'watcher_queue_depth', 'Keys in a controller work queue: waiting, being synced, or waiting to retry.', ['controller'], (g) => {
      for (const [controller, n] of Object.entries(src()?.queueDepths() ?? {})) g.set({ controller }, n);
    });
    const ipam = (name: string, help: string, field: 'used' | 'free') =>
      scrapedGauge(reg, name, help, ['switch', 'subnet'], (g) => {
        g.reset(); // a removed node's series goes with it
        for (const u of src()?.ipam() ?? []) g.set({ switch: u.ls, subnet: u.subnet }, u[field]);
      });
    ipam('watcher_ipam_used_addresses', 'Pod addresses allocated in a node subnet.', 'used');
    ipam('watcher_ipam_free_addresses', 'Pod addresses still free in a node subnet (gateway, management, network and broadcast not counted).', 'free');
    scrapedGauge(reg, 'watcher_node_subnets', 'Node subnets of the cluster CIDR, by state (used or free).', ['state'], (g) => {
      const s = src()?.nodeSubnets();
      if (!s) return;
      g.set({ state: 'used' }, s.used);
      g.set({ state: 'free' }, s.free);
    });
  }

  /** Where the gauges read from (the leader's state; a standby reports leader 0 and empty queues). */
  observe(sources: WatcherSources): void {
    this.sources = sources;
  }

  /** The NB client with every transaction timed. */
  timedNb(nb: NbClient): NbClient {
    const h = this.nbTxn;
    return {
      get cache() {
        return nb.cache;
      },
      async transact(ops: Op[], opts?: { timeoutMs?: number }): Promise<unknown> {
        const end = h.startTimer();
        try {
          const r = await nb.transact(ops, opts);
          end({ result: 'ok' });
          return r;
        } catch (err) {
          end({ result: 'error' });
          throw err;
        }
      },
    };
  }

  /** fn, with its duration and failures recorded for `controller`. */
  timedSync(controller: string, fn: (key: string) => Promise<void>): (key: string) => Promise<void> {
    return async (key) => {
      const end = this.syncDuration.startTimer({ controller });
      try {
        await fn(key);
      } catch (err) {
        this.syncErrors.inc({ controller });
        throw err;
      } finally {
        end();
      }
    };
  }
}
