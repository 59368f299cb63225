// The gateway's desired NB state for one node, computed from its config alone (pure, unit-tested). nb.ts makes NB
// match it; the same function serves init, every reconcile pass of run, and cleanup (what to remove).
import {
  CLUSTER_ROUTER, JOIN_IP_KEY, JOIN_SWITCH, extGrPort, externalSwitch, gatewayIds, gatewayRouter, grExternalPort, grJoinPort, joinGrPort, localnetPort, macFromIPv4,
} from '../lib/ovn/names.js';
import type { NatSpec, RouterPolicySpec, StaticRouteSpec } from '../lib/ovn/router-children.js';
import { addressAt, formatIP, parseCIDR } from '../lib/ipnet/index.js';
import { egressNats, type EgressNatPolicy } from './egress-nat.js';
import type { EgressSubnet } from './subnets.js';

export interface TopologyInput {
  node: string;
  chassis: string;
  bridge: string;
  /** MAC of the GR's external port (shared NIC: the bridge's, i.e. the NIC's, since host and GR share the IP). */
  gwMac: string;
  physicalIp: string;
  physicalPrefix: number;
  defaultGw: string;
  clusterSubnet: string;
  nodeSubnet: string;
  joinIp: string;
  joinPrefix: number;
  /** The cluster router's address on the join switch: the GR's next hop back into the cluster. */
  clusterJoinIp: string;
  physicalNetwork: string;
  egress: EgressNatPolicy;
  /** The host's own IP, which this node's pods reach through the management port (shared NIC: the physical IP). */
  nodeIp?: string;
  /** The default Vpc's Subnets besides ovn-default and join (gateway/subnets.ts). */
  subnets?: EgressSubnet[];
}

export interface RouterPortRow {
  name: string;
  mac: string;
  networks: string[];
  external_ids: Record<string, string>;
}

export interface SwitchPortRow {
  switch: string;
  name: string;
  type: string;
  addresses: string[];
  options: Record<string, string>;
  external_ids: Record<string, string>;
}

export type RouteRow = StaticRouteSpec;
export type PolicyRow = RouterPolicySpec & { action: 'reroute' };
export type NatRow = NatSpec;

export interface GatewayTopology {
  router: { name: string; options: Record<string, string>; external_ids: Record<string, string> };
  routerPorts: RouterPortRow[];
  extSwitch: { name: string; external_ids: Record<string, string> };
  switchPorts: SwitchPortRow[];
  routes: RouteRow[];
  nats: NatRow[];
  /** Static routes on ovn_cluster_router: the return path from this node's pods through its GR. */
  clusterRoutes: RouteRow[];
  /** Router policies on ovn_cluster_router: this node's pods to the host's own IP through the management port. */
  clusterPolicies: PolicyRow[];
}

/** Priority of the node-IP reroute (ovn-kubernetes uses 1004 for the same policy). */
export const NODE_IP_POLICY_PRIORITY = 1004;

export { staticRouteKey as routeKey, routerPolicyKey as policyKey, natKey } from '../lib/ovn/router-children.js';

export function gatewayTopology(t: TopologyInput): GatewayTopology {
  const gr = gatewayRouter(t.node);
  const own = (role?: string): Record<string, string> => gatewayIds(t.node, role);
  const subnets = t.subnets ?? [];
  return {
    router: {
      name: gr,
      options: {
        chassis: t.chassis,
        // Traffic a GR load balancer sends into the cluster leaves with the GR's join IP as source, so replies
        // come back through this GR even when the endpoint's node egresses through another one.
        lb_force_snat_ip: 'router_ip',
        // Learn upstream neighbours only when asked: a large external segment must not fill the MAC table.
        always_learn_from_arp_request: 'false',
        dynamic_neigh_routers: 'true',
      },
      external_ids: { ...own('gateway-router'), [JOIN_IP_KEY]: t.joinIp },
    },
    routerPorts: [
      { name: grJoinPort(t.node), mac: macFromIPv4(t.joinIp), networks: [`${t.joinIp}/${t.joinPrefix}`], external_ids: own('join') },
      { name: grExternalPort(t.node), mac: t.gwMac, networks: [`${t.physicalIp}/${t.physicalPrefix}`], external_ids: own('external') },
    ],
    extSwitch: { name: externalSwitch(t.node), external_ids: own('external-switch') },
    switchPorts: [
      {
        switch: JOIN_SWITCH, name: joinGrPort(t.node), type: 'router', addresses: ['router'],
        options: { 'router-port': grJoinPort(t.node) }, external_ids: own('join'),
      },
      {
        switch: externalSwitch(t.node), name: extGrPort(t.node), type: 'router', addresses: ['router'],
        options: { 'router-port': grExternalPort(t.node) }, external_ids: own('external'),
      },
      {
        switch: externalSwitch(t.node), name: localnetPort(t.bridge, t.node), type: 'localnet', addresses: ['unknown'],
        options: { network_name: t.physicalNetwork }, external_ids: own('localnet'),
      },
    ],
    routes: [
      { ip_prefix: '0.0.0.0/0', nexthop: t.defaultGw, output_port: grExternalPort(t.node), external_ids: own('default-route') },
      { ip_prefix: t.clusterSubnet, nexthop: t.clusterJoinIp, external_ids: own('cluster-route') },
      ...subnets.map((s) => ({ ip_prefix: s.cidr, nexthop: t.clusterJoinIp, external_ids: own('subnet-route') })),
    ],
    nats: [
      ...egressNats(t.egress, { node: t.node, clusterSubnet: t.clusterSubnet, physicalIp: t.physicalIp }),
      ...subnets.filter((s) => s.natOutgoing).map((s) => ({ type: 'snat' as const, logical_ip: s.cidr, external_ip: t.physicalIp, external_ids: own('subnet-snat') })),
    ],
    clusterRoutes: [
      // The default Vpc's other Subnets leave through the gateways: every GR adds its own default route, so
      // ovn_cluster_router spreads their flows over all of them (ECMP). Lowest priority of all routes: in-cluster
      // destinations keep their connected and per-node routes, and ovn-default pods their src-ip route.
      ...(subnets.length ? [{ ip_prefix: '0.0.0.0/0', nexthop: t.joinIp, external_ids: own('subnet-egress') }] : []),
      { ip_prefix: t.nodeSubnet, nexthop: t.joinIp, policy: 'src-ip', external_ids: own('return-route') },
      // The GR's join IP itself, more specific than every node's src-ip route: replies to a GR's load-balancer
      // SNAT (lb_force_snat_ip) must reach that GR, not the replying pod's own gateway.
      { ip_prefix: `${t.joinIp}/32`, nexthop: t.joinIp, external_ids: own('join-ip-route') },
    ],
    clusterPolicies: t.nodeIp ? [nodeIpPolicy(t.nodeSubnet, t.nodeIp, own('node-ip-policy'))] : [],
  };
}

/**
 * This node's pods to its host IP: in shared-NIC mode GR_<node> owns that IP too (it would answer a ping and drop
 * the rest), so the packet goes to the management port (the subnet's .2) and reaches the host's stack with the
 * pod's own source address; the host answers through its route to the cluster CIDR via the same port. The
 * management port's own traffic is left out: rerouted back to where it came from, the host would drop it as a
 * martian (its own source address).
 */
export function nodeIpPolicy(nodeSubnet: string, nodeIp: string, external_ids: Record<string, string>): PolicyRow {
  const mgmtIp = formatIP(addressAt(parseCIDR(nodeSubnet), 2));
  return {
    priority: NODE_IP_POLICY_PRIORITY,
    match: `ip4.src == ${nodeSubnet} && ip4.src != ${mgmtIp} && ip4.dst == ${nodeIp}`,
    action: 'reroute', nexthops: [mgmtIp], external_ids,
  };
}
