// The parts of Neutron's v2.0 API objects Tessera reads and writes. Neutron returns more fields; these are the
// ones the code relies on, so a response missing one of them is refused rather than half-used.

export interface NeutronRouter {
  id: string;
  name: string;
  project_id: string;
  status?: string;
}

export interface NeutronNetwork {
  id: string;
  name: string;
  project_id: string;
  mtu?: number;
  subnets: string[];
}

export interface NeutronSubnet {
  id: string;
  name: string;
  network_id: string;
  project_id: string;
  cidr: string;
  gateway_ip: string | null;
  ip_version: number;
  host_routes?: Array<{ destination: string; nexthop: string }>;
}

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export interface NeutronPort {
  id: string;
  name: string;
  network_id: string;
  project_id: string;
  mac_address: string;
  fixed_ips: FixedIp[];
  device_owner: string;
  device_id: string;
  description?: string;
  security_groups: string[];
  status?: string;
  tags?: string[];
  /** The host (OVN chassis hostname) the port is bound to; Neutron reports it ACTIVE once that chassis claims it. */
  'binding:host_id'?: string;
  /** `unbound`, `binding_failed` (no such chassis host), or the bound VIF type (`ovs`). */
  'binding:vif_type'?: string;
  /** On a trunk's parent port (trunk-details extension). */
  trunk_details?: { trunk_id: string; sub_ports: Array<TrunkSubport & { mac_address?: string }> };
}

export interface TrunkSubport {
  port_id: string;
  segmentation_type: 'vlan' | 'inherit';
  segmentation_id: number;
}

export interface NeutronTrunk {
  id: string;
  name: string;
  port_id: string;
  project_id: string;
  sub_ports: TrunkSubport[];
}

export interface NeutronSecurityGroupRule {
  id: string;
  security_group_id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
}

export interface NeutronSecurityGroup {
  id: string;
  name: string;
  project_id: string;
  security_group_rules: NeutronSecurityGroupRule[];
}

/** Neutron's error body: {"NeutronError": {"type", "message", "detail"}}. */
export interface NeutronErrorBody {
  NeutronError?: { type?: string; message?: string; detail?: string };
}

/**
 * device_owner of a pod's port as created (a trunk add makes a subport's `trunk:subport`, only once its tags are on).
 * A baremetal pod's port keeps it, with device_id = the pod's uid: Neutron's OVN driver copies both into the switch
 * port's external_ids (`neutron:device_owner`, `neutron:device_id`) and ovn-northd into its Port_Binding, where the
 * agent checks them before plugging a pod into the port. Not `compute:*`: Neutron would notify Nova.
 */
export const POD_PORT_DEVICE_OWNER = 'tessera:pod';
