// What makes a pod's port a child port: the pod runs on a nested node (tessera.io/nested-parent-port, validated in
// parent-port.ts), so its port gets parent_name = the VM's port and a VLAN tag of that parent (vlan-tags.ts), which
// the pod's annotation carries as `vlan` for the nested agent. A refused parent is a Warning Event on the Node (once
// per distinct problem) and the pod gets no port until the Node is fixed.
import type { V1Pod } from '@kubernetes/client-node';
import type { WatcherContext } from '../context.js';
import { nestedParent } from './parent-port.js';
import { VlanTags, type VlanRange } from './vlan-tags.js';

export const NESTED_PARENT_REFUSED = 'NestedParentPortRefused';

export class NestedParentRefusedError extends Error {
  constructor(readonly node: string, problem: string) {
    super(`node ${node} is nested but its parent port is refused: ${problem}`);
  }
}

export interface ChildPlacement {
  parent: string;
  tag: number;
}

export class ChildPorts {
  readonly tags: VlanTags;
  /** Last refusal reported per node, so a retry loop does not flood the Node's Events. */
  private readonly reported = new Map<string, string>();

  constructor(private readonly ctx: WatcherContext, range?: VlanRange) {
    this.tags = new VlanTags(ctx.nb.cache, range);
  }

  /** The parent and tag of the pod's port `port`, undefined for a pod on an ordinary node. */
  async placement(pod: V1Pod, port: string): Promise<ChildPlacement | undefined> {
    const nodeName = pod.spec?.nodeName ?? '';
    const { stores } = this.ctx;
    const p = nestedParent(stores.nodes.get(nodeName), stores.nodes.list(), this.ctx.nb.cache);
    if (!p) return undefined;
    if ('problem' in p) {
      await this.reportNode(nodeName, p.problem);
      throw new NestedParentRefusedError(nodeName, p.problem);
    }
    this.reported.delete(nodeName);
    return { parent: p.parent, tag: this.tags.tagFor(p.parent, port) };
  }

  /** The pod's port is gone (or never committed): its in-flight tag goes back. */
  release(port: string): void {
    this.tags.release(port);
  }

  private async reportNode(node: string, problem: string): Promise<void> {
    if (this.reported.get(node) === problem) return;
    this.reported.set(node, problem);
    this.ctx.log.warn(`node ${node}: ${problem}`);
    const uid = this.ctx.stores.nodes.get(node)?.metadata?.uid;
    await this.ctx.kube.event({ kind: 'Node', name: node, uid }, 'Warning', NESTED_PARENT_REFUSED, `${problem}; no pod of this node gets a port until it is fixed`).catch(() => {});
  }
}
