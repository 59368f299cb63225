// The agent's Prometheus metrics. Labels are bounded: CNI command, CNI error code, stage, what reconcile removed;
// never a pod, container or port name.
import { Counter, Gauge, Histogram, LATENCY_BUCKETS, PREFIX, type Registry } from '../lib/metrics.js';
import type { AgentCommand, AgentResponse } from '../lib/cni-protocol.js';

export class AgentMetrics {
  /** Whole request, as the shim waits for it, including the wait for ovn-installed. */
  readonly cniDuration: Histogram<'command'>;
  /** ADD's parts: annotation (waiting for the watcher), netns, ovs and ovn_installed (waiting for ovn-controller). */
  readonly addStage: Histogram<'stage'>;
  readonly cniErrors: Counter<'command' | 'code'>;
  readonly reconcileRemoved: Counter<'kind'>;

  constructor(reg: Registry, podPorts: () => number) {
    this.cniDuration = new Histogram({
      name: `${PREFIX}agent_cni_request_duration_seconds`,
      help: 'CNI requests served by the agent, by command, from request to answer (failed ones included).',
      labelNames: ['command'],
      buckets: LATENCY_BUCKETS,
      registers: [reg],
    });
    this.addStage = new Histogram({
      name: `${PREFIX}agent_cni_add_stage_duration_seconds`,
      help: 'Stages of successful CNI ADDs: annotation (wait for the watcher), netns (veth and addresses), ovs (port added), ovn_installed (wait for ovn-controller).',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS,
      registers: [reg],
    });
    this.cniErrors = new Counter({
      name: `${PREFIX}agent_cni_errors_total`,
      help: 'CNI requests answered with an error, by command and CNI error code (100: agent failure).',
      labelNames: ['command', 'code'],
      registers: [reg],
    });
    this.reconcileRemoved = new Counter({
      name: `${PREFIX}agent_reconcile_removed_total`,
      help: 'Stale pod ports and orphan veths removed by the reconcile loop.',
      labelNames: ['kind'],
      registers: [reg],
    });
    for (const kind of ['port', 'veth']) this.reconcileRemoved.inc({ kind }, 0);
    new Gauge({
      name: `${PREFIX}agent_pod_ports`,
      help: 'Pod ports on br-int (OVS interfaces the agent created for pods).',
      registers: [reg],
      collect() {
        this.set(podPorts());
      },
    });
  }

  removed(r: { removedPorts: string[]; removedVeths: string[] }): void {
    this.reconcileRemoved.inc({ kind: 'port' }, r.removedPorts.length);
    this.reconcileRemoved.inc({ kind: 'veth' }, r.removedVeths.length);
  }

  /** Records one answered CNI request. */
  request(command: AgentCommand, seconds: number, res: AgentResponse): void {
    this.cniDuration.observe({ command }, seconds);
    if (!res.ok) this.cniErrors.inc({ command, code: String(res.code) });
  }
}
