// The cluster's own control endpoints (OVN NB/SB ports on the central hosts, health ports) as one from-lport drop
// ACL on every node switch, so a pod reaches them only when a NetworkPolicy egress rule allows it.
//
// Layout against translate.ts: policy egress ACLs live in the after-LB stage (options:apply-after-lb=true) with
// their default-deny at DENY_PRIORITY (1000) and allows at ALLOW_PRIORITY (1001). This drop sits in that same stage
// at PROTECTED_PRIORITY (990): an egress allow of a policy (1001) wins over it, a policy's default-deny drops anyway,
// and a pod no egress policy selects hits this drop. After-LB also means a Service whose backends are a protected
// endpoint is dropped too.
//
// Node ports (--protected-node-port: the agents' and gateways' health/metrics listeners on 0.0.0.0) are protected on
// every node IP and every management IP through two address sets the node controller keeps, so the match stays the
// same while nodes come and go. The ACL leaves out packets the cluster router sends into the switch (eth.src is its
// port's MAC; a pod's port_security pins the pod's own): a pod's packet to its own node's IP is rerouted to the
// management port (gateway/topology.ts) and so crosses its node switch twice, the second time from the router port,
// where a NetworkPolicy allow (which matches the pod's inport) cannot reach it. Every packet from a pod was judged on
// its first pass, from its own port. (OVN refuses `inport != "..."`: string fields compare only in a positive sense.)
import { ConfigError } from '../../lib/cli.js';
import { formatIP, parseIP, type Family } from '../../lib/ipnet/index.js';
import type { AclSpec } from '../../lib/ovn/acl.js';
import { ownerIds } from '../../lib/ovn/names.js';
import { NODE_IPS_ADDRESS_SET } from '../../lib/ovn/names.js';
import { MGMT_ADDRESS_SET } from '../../lib/ovn/names.js';

export const PROTECTED_PRIORITY = 990;
export const PROTECTED_OBJECT = 'protected-endpoints';

export interface ProtectedEndpoint {
  ip: string;
  family: Family;
  port: number;
}

function endpoint(host: string, port: number): ProtectedEndpoint | undefined {
  try {
    const a = parseIP(host);
    return { ip: formatIP(a), family: a.family, port };
  } catch {
    return undefined;
  }
}

const isLoopback = (e: ProtectedEndpoint): boolean => (e.family === 4 ? e.ip.startsWith('127.') : e.ip === '::1');

/**
 * --protected-endpoint values (IP:PORT, [IPv6]:PORT) plus the host:port of every tcp:/ssl: OVSDB remote whose host
 * is an IP literal and not loopback (a pod's loopback is its own; a DNS name cannot go into an ACL match).
 */
export function parseProtectedEndpoints(flagged: string[], remotes: string[]): ProtectedEndpoint[] {
  const out = new Map<string, ProtectedEndpoint>();
  const add = (e: ProtectedEndpoint): void => void out.set(`${e.ip}|${e.port}`, e);
  for (const text of flagged) {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):([0-9]{1,5})$/.exec(text.trim());
    const port = Number(m?.[3]);
    const e = m && port >= 1 && port <= 65535 ? endpoint(m[1] ?? m[2]!, port) : undefined;
    if (!e) throw new ConfigError(`--protected-endpoint "${text}": want IP:PORT or [IPv6]:PORT`);
    add(e);
  }
  for (const r of remotes) {
    const m = /^(?:tcp|ssl):(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):([0-9]+)$/.exec(r.trim());
    const e = m ? endpoint(m[1] ?? m[2]!, Number(m[3])) : undefined;
    if (e && !isLoopback(e)) add(e);
  }
  return [...out.values()];
}

/** --protected-node-port values: sorted, deduplicated ports 1..65535. */
export function parseProtectedNodePorts(flagged: string[]): number[] {
  const ports = new Set<number>();
  for (const text of flagged) {
    const port = /^[0-9]{1,5}$/.test(text.trim()) ? Number(text.trim()) : NaN;
    if (!(port >= 1 && port <= 65535)) throw new ConfigError(`--protected-node-port "${text}": want a port 1..65535`);
    ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

const portTerm = (ports: number[]): string => (ports.length === 1 ? `tcp.dst == ${ports[0]}` : `tcp.dst == {${ports.join(', ')}}`);

/**
 * The drop ACL a node switch carries, or undefined when nothing is protected. `family` is the cluster's: the node-IP
 * and management address sets hold addresses of that family only. `routerMac`: the MAC of the cluster router's port
 * into the switch: packets with its MAC as source are left alone.
 */
export function protectedEndpointsAcl(endpoints: ProtectedEndpoint[], nodePorts: number[] = [], family: Family = 4, routerMac?: string): AclSpec | undefined {
  if (endpoints.length === 0 && nodePorts.length === 0) return undefined;
  const portsByHost = new Map<string, { family: Family; ports: Set<number> }>();
  for (const e of endpoints) {
    const h = portsByHost.get(e.ip) ?? { family: e.family, ports: new Set<number>() };
    h.ports.add(e.port);
    portsByHost.set(e.ip, h);
  }
  const terms = [...portsByHost].sort(([a], [b]) => a.localeCompare(b)).map(([ip, h]) => {
    const ports = [...h.ports].sort((a, b) => a - b);
    return `(${h.family === 4 ? 'ip4' : 'ip6'}.dst == ${ip} && ${portTerm(ports)})`;
  });
  if (nodePorts.length > 0) {
    terms.push(`(${family === 4 ? 'ip4' : 'ip6'}.dst == {$${NODE_IPS_ADDRESS_SET}, $${MGMT_ADDRESS_SET}} && ${portTerm(nodePorts)})`);
  }
  return {
    direction: 'from-lport',
    priority: PROTECTED_PRIORITY,
    match: `${routerMac ? `eth.src != ${routerMac} && ` : ''}tcp && ${terms.length === 1 ? terms[0] : `(${terms.join(' || ')})`}`,
    action: 'drop',
    options: { 'apply-after-lb': 'true' },
    external_ids: ownerIds('cluster', PROTECTED_OBJECT, { 'tessera.io/rule': 'protected-endpoint' }),
  };
}
