// Events on the gateway's Node: a failing reconcile pass (GatewayFailed, once per distinct error) and its
// recovery (GatewayRecovered), so `kubectl describe node` shows why north-south traffic may be down.
import { loadKubeConfig, makeClients, type KubeAccessOptions } from '../lib/kube/client.js';
import type { Logger } from '../lib/log.js';

const COMPONENT = 'tessera-gateway';

export class NodeEvents {
  private readonly core;
  /** The failure last reported; undefined while healthy. */
  private failing?: string;

  constructor(access: KubeAccessOptions, private readonly node: string, private readonly log: Logger) {
    this.core = makeClients(loadKubeConfig(access)).core;
  }

  failed(message: string): void {
    if (this.failing === message) return;
    this.failing = message;
    this.send('Warning', 'GatewayFailed', message);
  }

  ok(): void {
    if (this.failing === undefined) return;
    this.failing = undefined;
    this.send('Normal', 'GatewayRecovered', `gateway on node ${this.node} reconciled again`);
  }

  private send(type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = new Date();
    this.core
      .createNamespacedEvent({
        namespace: 'default',
        body: {
          metadata: { generateName: `${this.node}.`, namespace: 'default' },
          involvedObject: { kind: 'Node', name: this.node, apiVersion: 'v1' },
          type, reason, message,
          source: { component: COMPONENT, host: this.node },
          firstTimestamp: now, lastTimestamp: now, count: 1,
          reportingComponent: COMPONENT, reportingInstance: this.node,
        },
      })
      .catch((err: Error) => this.log.warn(`Event ${reason} on node ${this.node} not written: ${err.message}`));
  }
}
