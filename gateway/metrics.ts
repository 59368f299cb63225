// The gateway's Prometheus metrics: reconcile passes by result, and repairs of the bridge flows that
// ovs-vswitchd lost (a restart empties its flow table).
import { counter, latencyHistogram, type Counter, type Histogram, type Registry } from '../lib/metrics.js';

export class GatewayMetrics {
  readonly passes: Counter<'result'>;
  readonly passDuration: Histogram;
  readonly flowRepairs: Counter;

  constructor(reg: Registry) {
    this.passes = counter(reg, 'gateway_reconcile_passes_total',
      'Gateway reconcile passes, by result: ok, waiting (for the watcher or the patch port) or error.', ['result']);
    for (const result of ['ok', 'waiting', 'error']) this.passes.inc({ result }, 0);
    this.passDuration = latencyHistogram(reg, 'gateway_reconcile_pass_duration_seconds', 'Duration of one gateway reconcile pass.');
    this.flowRepairs = counter(reg, 'gateway_flow_repairs_total',
      'Times the gateway found its flows missing from the bridge between passes and programmed them again.');
  }
}
