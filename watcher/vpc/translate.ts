// Vpc and Subnet → the NB rows they stand for; pure, so the unit tests pin the translation.
//   Vpc (custom)  → Logical_Router <vpc>; Vpc ovn-cluster → master-init's ovn_cluster_router (not written here).
//   spec.staticRoutes → Logical_Router_Static_Route (policyDst → dst-ip, policySrc → src-ip);
//   spec.policyRoutes → Logical_Router_Policy (reroute → nexthops [nextHopIP]).
//   Subnet → Logical_Switch <subnet> (other_config subnet / exclude_ips), router port <vpc>-<subnet> at the
//   gateway, switch port <subnet>-<vpc> of type router; private → two switch ACLs (to-lport): allow-related from
//   the Subnet itself and allowSubnets (2001), drop everything else addressed to the Subnet (2000).
import { macFromIPv4 } from '../../lib/ovn/names.js';
import { formatCIDR, formatIP, parseCIDR, parseIP, withPrefix, addressAt } from '../../lib/ipnet/index.js';
import type { PolicyRoute, StaticRoute, Subnet, SubnetAddressing, Vpc } from '../../lib/kube/kubeovn.js';
import { DEFAULT_VPC, subnetVpc } from '../../lib/kube/kubeovn.js';
import type { AclSpec } from '../../lib/ovn/acl.js';
import type { PortSpec } from '../../lib/ovn/lsp.js';
import type { RouterPortSpec, RouterSpec } from '../../lib/ovn/router.js';
import type { SwitchSpec } from '../../lib/ovn/switch.js';
import { subnetRouterPort, subnetSwitch, subnetSwitchPort, vpcOwnerIds, vpcRouter } from './names.js';

export const PRIVATE_ALLOW_PRIORITY = 2001;
export const PRIVATE_DROP_PRIORITY = 2000;

export interface RouteRow {
  ip_prefix: string;
  nexthop: string;
  policy: 'dst-ip' | 'src-ip';
  external_ids: Record<string, string>;
}

export interface PolicyRow {
  priority: number;
  match: string;
  action: 'allow' | 'drop' | 'reroute';
  nexthops: string[];
  external_ids: Record<string, string>;
}

export interface VpcRows {
  router: string;
  /** Undefined for the default Vpc: master-init owns ovn_cluster_router. */
  routerSpec?: RouterSpec;
  routes: RouteRow[];
  policies: PolicyRow[];
}

export interface SubnetRows {
  router: string;
  switchSpec: SwitchSpec;
  routerPort: RouterPortSpec;
  switchPort: PortSpec;
  acls: AclSpec[];
}

const ip = (what: string, s: string): string => {
  try {
    return formatIP(parseIP(s));
  } catch {
    throw new Error(`${what}: "${s}" is not an IP address`);
  }
};

function routeRow(vpc: string, r: StaticRoute, i: number): RouteRow {
  let prefix: string;
  try {
    prefix = formatCIDR(parseCIDR(r.cidr, { strict: false }));
  } catch {
    throw new Error(`staticRoutes[${i}].cidr "${r.cidr}" is not a CIDR`);
  }
  const policy = r.policy === 'policySrc' ? 'src-ip' : 'dst-ip';
  return { ip_prefix: prefix, nexthop: ip(`staticRoutes[${i}].nextHopIP`, r.nextHopIP), policy, external_ids: vpcOwnerIds('vpc', vpc) };
}

function policyRow(vpc: string, p: PolicyRoute, i: number): PolicyRow {
  if (!Number.isInteger(p.priority) || p.priority < 0 || p.priority > 32767) throw new Error(`policyRoutes[${i}].priority ${p.priority} is not 0..32767`);
  if (!p.match?.trim()) throw new Error(`policyRoutes[${i}].match is empty`);
  if (!['allow', 'drop', 'reroute'].includes(p.action)) throw new Error(`policyRoutes[${i}].action "${p.action}" is not allow, drop or reroute`);
  const nexthops = p.action === 'reroute' ? [ip(`policyRoutes[${i}].nextHopIP`, p.nextHopIP ?? '')] : [];
  return { priority: p.priority, match: p.match, action: p.action, nexthops, external_ids: vpcOwnerIds('vpc', vpc) };
}

/** The Vpc's router and the routes and policies its spec asks for; throws naming the first bad entry. */
export function vpcRows(vpc: Vpc): VpcRows {
  const name = vpc.metadata?.name ?? '';
  const router = vpcRouter(name);
  return {
    router,
    routerSpec: name === DEFAULT_VPC ? undefined : { name: router, external_ids: vpcOwnerIds('vpc', name) },
    routes: (vpc.spec?.staticRoutes ?? []).map((r, i) => routeRow(name, r, i)),
    policies: (vpc.spec?.policyRoutes ?? []).map((p, i) => policyRow(name, p, i)),
  };
}

/** Excluded offsets as OVN's exclude_ips text ("a b..c"). */
function excludeText(a: SubnetAddressing): string {
  return a.exclude.map(([lo, hi]) => (lo === hi ? formatIP(addressAt(a.cidr, lo)) : `${formatIP(addressAt(a.cidr, lo))}..${formatIP(addressAt(a.cidr, hi))}`)).join(' ');
}

function privateAcls(subnet: Subnet, a: SubnetAddressing, ids: Record<string, string>): AclSpec[] {
  if (!subnet.spec?.private) return [];
  const cidr = formatCIDR(a.cidr);
  const allowed = [cidr, ...(subnet.spec.allowSubnets ?? []).map((s, i) => {
    try {
      return formatCIDR(parseCIDR(s.trim(), { strict: false }));
    } catch {
      throw new Error(`allowSubnets[${i}] "${s}" is not a CIDR`);
    }
  })];
  const src = allowed.length === 1 ? allowed[0] : `{${[...new Set(allowed)].join(', ')}}`;
  return [
    { direction: 'to-lport', priority: PRIVATE_ALLOW_PRIORITY, match: `ip4.src == ${src} && ip4.dst == ${cidr}`, action: 'allow-related', external_ids: ids },
    { direction: 'to-lport', priority: PRIVATE_DROP_PRIORITY, match: `ip4.dst == ${cidr}`, action: 'drop', external_ids: ids },
  ];
}

/** The Subnet's switch, its link to the Vpc's router and its ACLs. */
export function subnetRows(subnet: Subnet, a: SubnetAddressing): SubnetRows {
  const name = subnet.metadata?.name ?? '';
  const vpc = subnetVpc(subnet);
  const ids = vpcOwnerIds('subnet', name);
  const gw = formatIP(a.gateway);
  const exclude = excludeText(a);
  return {
    router: vpcRouter(vpc),
    switchSpec: { name: subnetSwitch(name), other_config: { subnet: formatCIDR(a.cidr), ...(exclude ? { exclude_ips: exclude } : {}) }, external_ids: { ...ids, 'tessera.io/vpc': vpc } },
    routerPort: { name: subnetRouterPort(vpc, name), mac: macFromIPv4(gw), networks: [withPrefix(a.gateway, a.cidr.prefix)], external_ids: ids },
    switchPort: { name: subnetSwitchPort(vpc, name), type: 'router', addresses: ['router'], options: { 'router-port': subnetRouterPort(vpc, name) }, external_ids: ids },
    acls: privateAcls(subnet, a, ids),
  };
}
