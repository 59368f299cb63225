// Kube-OVN's kubeovn.io/v1 Vpc and Subnet as Tessera reads them, and the address rules both the watcher and
// the agent apply to a Subnet: a CIDR (network address, IPv4), a gateway inside it, excludeIps inside it.
// The CRDs (deploy/crds/) state the same rules in CEL; the watcher checks them again, because an API server
// without the CEL library (before Kubernetes 1.31) or an object written before the CRD was updated skips them.
import type { KubernetesObject } from '@kubernetes/client-node';
import { addressAt, contains, formatCIDR, formatIP, offsetOf, parseCIDR, parseIP, type IPAddr, type IPNet } from '../ipnet/index.js';

export const KUBEOVN_GROUP = 'kubeovn.io';
export const KUBEOVN_VERSION = 'v1';
export const DEFAULT_VPC = 'ovn-cluster';
export const DEFAULT_SUBNET = 'ovn-default';
export const JOIN_SUBNET = 'join';
/** Finalizer the watcher puts on every Subnet it serves: the NB rows go before the object does. */
export const SUBNET_FINALIZER = 'tessera.io/subnet';

export interface StaticRoute {
  cidr: string;
  nextHopIP: string;
  policy?: 'policyDst' | 'policySrc';
}

export interface PolicyRoute {
  priority: number;
  match: string;
  action: 'allow' | 'drop' | 'reroute';
  nextHopIP?: string;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export interface VpcSpec {
  namespaces?: string[];
  staticRoutes?: StaticRoute[];
  policyRoutes?: PolicyRoute[];
}

export interface VpcStatus {
  default?: boolean;
  standby?: boolean;
  router?: string;
  subnets?: string[];
  conditions?: Condition[];
}

export interface Vpc extends KubernetesObject {
  spec?: VpcSpec;
  status?: VpcStatus;
}

export interface SubnetSpec {
  default?: boolean;
  vpc?: string;
  protocol?: 'IPv4' | 'IPv6' | 'Dual';
  namespaces?: string[];
  cidrBlock?: string;
  gateway?: string;
  excludeIps?: string[];
  provider?: string;
  gatewayType?: string;
  natOutgoing?: boolean;
  private?: boolean;
  allowSubnets?: string[];
  disableInterConnection?: boolean;
}

export interface SubnetStatus {
  v4availableIPs?: number;
  v4usingIPs?: number;
  conditions?: Condition[];
}

export interface Subnet extends KubernetesObject {
  spec?: SubnetSpec;
  status?: SubnetStatus;
}

/** A Subnet's addresses, parsed: the network, its gateway and the excluded offsets (inclusive ranges). */
export interface SubnetAddressing {
  cidr: IPNet;
  gateway: IPAddr;
  /** Offsets into `cidr` never handed to pods, as [first, last] inclusive; the gateway is not among them. */
  exclude: Array<[bigint, bigint]>;
}

/** An excludeIps entry: one address or "a..b". */
function excludeRange(entry: string, cidr: IPNet): [bigint, bigint] {
  const parts = entry.split('..');
  if (parts.length > 2) throw new Error(`excludeIps entry "${entry}" is neither an address nor a..b`);
  const ends = parts.map((p) => {
    let a: IPAddr;
    try {
      a = parseIP(p.trim());
    } catch {
      throw new Error(`excludeIps entry "${entry}": "${p}" is not an IP address`);
    }
    if (!contains(cidr, a)) throw new Error(`excludeIps entry "${entry}" is outside cidrBlock ${formatCIDR(cidr)}`);
    return offsetOf(cidr, a);
  });
  const [lo, hi] = [ends[0], ends[ends.length - 1]];
  if (hi < lo) throw new Error(`excludeIps entry "${entry}": the range ends before it starts`);
  return [lo, hi];
}

/**
 * The Subnet's addressing, or an Error saying what is wrong: cidrBlock a network address in CIDR form, IPv4
 * (IPv6 and dual stack are not supported yet), gateway (default: the first address) inside it and not its
 * network or broadcast address, every excludeIps entry inside it.
 */
export function subnetAddressing(spec: SubnetSpec | undefined): SubnetAddressing {
  const raw = spec?.cidrBlock;
  if (!raw) throw new Error('spec.cidrBlock is required');
  if (raw.includes(',')) throw new Error(`cidrBlock "${raw}": dual stack is not supported yet (IPv4 only)`);
  let cidr: IPNet;
  try {
    cidr = parseCIDR(raw);
  } catch (err) {
    throw new Error(`cidrBlock: ${(err as Error).message}`);
  }
  if (cidr.family !== 4 || (spec?.protocol && spec.protocol !== 'IPv4')) throw new Error(`cidrBlock "${raw}" / protocol ${spec?.protocol ?? ''}: only IPv4 Subnets are supported yet`);
  if (cidr.prefix > 29) throw new Error(`cidrBlock ${raw} is too small (at most /29)`);
  const last = (1n << BigInt(32 - cidr.prefix)) - 1n;
  let gateway = addressAt(cidr, 1);
  if (spec?.gateway) {
    try {
      gateway = parseIP(spec.gateway);
    } catch {
      throw new Error(`gateway "${spec.gateway}" is not an IP address`);
    }
    if (!contains(cidr, gateway)) throw new Error(`gateway ${spec.gateway} is outside cidrBlock ${raw}`);
    const o = offsetOf(cidr, gateway);
    if (o === 0n || o === last) throw new Error(`gateway ${spec.gateway} is the network or broadcast address of ${raw}`);
  }
  const exclude = (spec?.excludeIps ?? []).map((e) => excludeRange(e, cidr));
  return { cidr, gateway, exclude };
}

/** Same as subnetAddressing, as a message or undefined. */
export function subnetAddressProblem(spec: SubnetSpec | undefined): string | undefined {
  try {
    subnetAddressing(spec);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export const subnetVpc = (s: Subnet): string => s.spec?.vpc || DEFAULT_VPC;
export const gatewayText = (a: SubnetAddressing): string => formatIP(a.gateway);
