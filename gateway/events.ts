// Events on the gateway's Node: a failing reconcile pass (GatewayFailed, once per distinct error) and its
// recovery (GatewayRecovered), so `kubectl describe node` shows why north-south traffic may be down.
import type { CoreV1Api } from '@kubernetes/client-node';
import { loadKubeConfig, makeClients, type KubeAccessOptions } from '../lib/kube/client.js';
import type { Logger } from '../lib/log.js';

const COMPONENT = 'tessera-gateway';

export class NodeEvents {
  private readonly core: CoreV1Api;
  /** The failure last reported; undefined while healthy. */
  private failing?: string;

  constructor(access: KubeAccessOptions, private readonly node: string, private readonly log: Logger) {
    this.core = makeClients(loadKubeConfig(access)).core;
  }

  /** Reports a failed pass unless it failed the same way last time; never rejects (a lost Event is logged). */
  failed(message: string): Promise<void> {
    if (this.failing === message) return Promise.resolve();
    this.failing = message;
    return this.send('Warning', 'GatewayFailed', message);
  }

  /** Reports the first good pass after a failure. */
  ok(): Promise<void> {
    if (this.failing === undefined) return Promise.resolve();
    this.failing = undefined;
    return this.send('Normal', 'GatewayRecovered', `gateway on node ${this.node} reconciled again`);
  }

  /** Any other Event on the Node (drift repair); never rejects. */
  report(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    return this.send(type, reason, message);
  }

  private async send(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date();
    await this.core
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
      .then(() => undefined, (err: Error) => this.log.warn(`Event ${reason} on node ${this.node} not written: ${err.message}`));
  }
}
