// Node subnets: carves the cluster CIDR into fixed-size subnets, one per node. The allocator holds
// no persistent state of its own: on start it is rebuilt from the nodes' `tessera.io/node-subnet`
// annotations (and node switches in NB), so a subnet is never handed out twice.
import { type IPNet, formatCIDR, nthSubnet, subnetCount, subnetIndex, containsNet, parseCIDR } from '../../lib/ipnet/index.js';

export class SubnetExhaustedError extends Error {}
export class SubnetConflictError extends Error {}

export class SubnetAllocator {
  private readonly byIndex = new Map<bigint, string>();
  private readonly byNode = new Map<string, bigint>();
  private readonly count: bigint;
  private cursor = 0n;

  constructor(readonly clusterCidr: IPNet, readonly prefix: number) {
    this.count = subnetCount(clusterCidr, prefix);
  }

  get(node: string): IPNet | undefined {
    const i = this.byNode.get(node);
    return i === undefined ? undefined : nthSubnet(this.clusterCidr, this.prefix, i);
  }

  /** Records an existing assignment (from an annotation or NB). Throws if another node holds it. */
  reserve(node: string, subnet: IPNet | string): IPNet {
    const net = typeof subnet === 'string' ? parseCIDR(subnet) : subnet;
    if (net.prefix !== this.prefix || !containsNet(this.clusterCidr, net)) {
      throw new SubnetConflictError(`node ${node}: subnet ${formatCIDR(net)} is not a /${this.prefix} of the cluster CIDR ${formatCIDR(this.clusterCidr)}`);
    }
    const i = subnetIndex(this.clusterCidr, net);
    const holder = this.byIndex.get(i);
    if (holder !== undefined && holder !== node) {
      throw new SubnetConflictError(`node ${node}: subnet ${formatCIDR(net)} is already assigned to node ${holder}`);
    }
    const mine = this.byNode.get(node);
    if (mine !== undefined && mine !== i) {
      throw new SubnetConflictError(`node ${node}: already has subnet ${formatCIDR(nthSubnet(this.clusterCidr, this.prefix, mine))}, not ${formatCIDR(net)}`);
    }
    this.byIndex.set(i, node);
    this.byNode.set(node, i);
    return net;
  }

  /** The node's subnet, allocating the next free one if it has none. */
  allocate(node: string): IPNet {
    const have = this.get(node);
    if (have) return have;
    for (let k = 0n; k < this.count; k++) {
      const i = (this.cursor + k) % this.count;
      if (!this.byIndex.has(i)) {
        this.byIndex.set(i, node);
        this.byNode.set(node, i);
        this.cursor = (i + 1n) % this.count;
        return nthSubnet(this.clusterCidr, this.prefix, i);
      }
    }
    throw new SubnetExhaustedError(
      `no free /${this.prefix} left in cluster CIDR ${formatCIDR(this.clusterCidr)} for node ${node} (${this.count} subnets, all assigned)`,
    );
  }

  release(node: string): void {
    const i = this.byNode.get(node);
    if (i === undefined) return;
    this.byNode.delete(node);
    this.byIndex.delete(i);
  }

  nodes(): string[] {
    return [...this.byNode.keys()];
  }
}
