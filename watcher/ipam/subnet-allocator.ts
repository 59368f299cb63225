// Node subnets: carves the cluster CIDR into fixed-size subnets, one per node. The allocator holds
// no persistent state of its own: on start it is rebuilt from the nodes' `tessera.io/node-subnet`
// annotations (and node switches in NB), so a subnet is never handed out twice.
import { type IPNet, formatCIDR, nthSubnet, subnetCount, subnetIndex, containsNet, parseCIDR } from '../../lib/ipnet/index.js';
import { IndexAllocator } from './index-allocator.js';

export class SubnetExhaustedError extends Error {}
export class SubnetConflictError extends Error {}

export class SubnetAllocator {
  private readonly slots: IndexAllocator;

  constructor(readonly clusterCidr: IPNet, readonly prefix: number) {
    this.slots = new IndexAllocator(0n, subnetCount(clusterCidr, prefix));
  }

  get(node: string): IPNet | undefined {
    const i = this.slots.indexOf(node);
    return i === undefined ? undefined : nthSubnet(this.clusterCidr, this.prefix, i);
  }

  /** Records an existing assignment (from an annotation or NB). Throws if another node holds it. */
  reserve(node: string, subnet: IPNet | string): IPNet {
    const net = typeof subnet === 'string' ? parseCIDR(subnet) : subnet;
    if (net.prefix !== this.prefix || !containsNet(this.clusterCidr, net)) {
      throw new SubnetConflictError(`node ${node}: subnet ${formatCIDR(net)} is not a /${this.prefix} of the cluster CIDR ${formatCIDR(this.clusterCidr)}`);
    }
    const c = this.slots.reserve(subnetIndex(this.clusterCidr, net), node);
    if (c?.kind === 'taken') throw new SubnetConflictError(`node ${node}: subnet ${formatCIDR(net)} is already assigned to node ${c.holder}`);
    if (c?.kind === 'holds') {
      throw new SubnetConflictError(`node ${node}: already has subnet ${formatCIDR(nthSubnet(this.clusterCidr, this.prefix, c.index))}, not ${formatCIDR(net)}`);
    }
    return net;
  }

  /** The node's subnet, allocating the next free one if it has none. */
  allocate(node: string): IPNet {
    const i = this.slots.allocate(node);
    if (i !== undefined) return nthSubnet(this.clusterCidr, this.prefix, i);
    throw new SubnetExhaustedError(
      `no free /${this.prefix} left in cluster CIDR ${formatCIDR(this.clusterCidr)} for node ${node} (${this.slots.span} subnets, all assigned)`,
    );
  }

  release(node: string): void {
    this.slots.release(node);
  }

  /** How many node subnets the cluster CIDR has in all. */
  get capacity(): number {
    return Number(this.slots.span);
  }

  nodes(): string[] {
    return this.slots.entries().map(([node]) => node);
  }
}
