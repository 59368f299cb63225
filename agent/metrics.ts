// The agent's Prometheus metrics. Labels are bounded: CNI command, CNI error code, stage, what reconcile removed;
// never a pod, container or port name.
import { counter, latencyHistogram, scrapedGauge, type Counter, type Histogram, type Registry } from '../lib/metrics.js';
import type { AgentCommand, AgentResponse } from '../lib/cni-protocol.js';

export class AgentMetrics {
  /** Whole request, as the shim waits for it, including the wait for ovn-installed. */
  readonly cniDuration: Histogram<'command'>;
  /** ADD's parts: annotation (waiting for the watcher), netns, ovs and ovn_installed (waiting for ovn-controller). */
  readonly addStage: Histogram<'stage'>;
  readonly cniErrors: Counter<'command' | 'code'>;
  readonly reconcileRemoved: Counter<'kind'>;

  constructor(reg: Registry, podPorts: () => number) {
    this.cniDuration = latencyHistogram(reg, 'agent_cni_request_duration_seconds',
      'CNI requests served by the agent, by command, from request to answer (failed ones included).', ['command']);
    this.addStage = latencyHistogram(reg, 'agent_cni_add_stage_duration_seconds',
      'Stages of successful CNI ADDs: annotation (wait for the watcher), netns (veth and addresses), ovs (port added), ovn_installed (wait for ovn-controller).', ['stage']);
    this.cniErrors = counter(reg, 'agent_cni_errors_total',
      'CNI requests answered with an error, by command and CNI error code (100: agent failure).', ['command', 'code']);
    this.reconcileRemoved = counter(reg, 'agent_reconcile_removed_total', 'Stale pod ports and orphan veths removed by the reconcile loop.', ['kind']);
    for (const kind of ['port', 'veth']) this.reconcileRemoved.inc({ kind }, 0);
    scrapedGauge(reg, 'agent_pod_ports', 'Pod ports on br-int (OVS interfaces the agent created for pods).', [], (g) => g.set(podPorts()));
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
