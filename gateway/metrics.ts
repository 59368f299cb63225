// The gateway's Prometheus metrics: reconcile passes by result, and repairs of the bridge flows that
// ovs-vswitchd lost (a restart empties its flow table).
import { Counter, Histogram, LATENCY_BUCKETS, PREFIX, type Registry } from '../lib/metrics.js';

export class GatewayMetrics {
  readonly passes: Counter<'result'>;
  readonly passDuration: Histogram;
  readonly flowRepairs: Counter;

  constructor(reg: Registry) {
    this.passes = new Counter({
      name: `${PREFIX}gateway_reconcile_passes_total`,
      help: 'Gateway reconcile passes, by result: ok, waiting (for the watcher or the patch port) or error.',
      labelNames: ['result'],
      registers: [reg],
    });
    for (const result of ['ok', 'waiting', 'error']) this.passes.inc({ result }, 0);
    this.passDuration = new Histogram({
      name: `${PREFIX}gateway_reconcile_pass_duration_seconds`,
      help: 'Duration of one gateway reconcile pass.',
      buckets: LATENCY_BUCKETS,
      registers: [reg],
    });
    this.flowRepairs = new Counter({
      name: `${PREFIX}gateway_flow_repairs_total`,
      help: 'Times the gateway found its flows missing from the bridge between passes and programmed them again.',
      registers: [reg],
    });
  }
}
