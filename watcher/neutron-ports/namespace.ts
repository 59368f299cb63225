// Per-Namespace choice of Neutron subnet and security groups (annotations on the Namespace, which only cluster
// admins may edit; pod owners cannot). Ids are checked for shape here; the subnet's project is checked against
// Neutron by the controller, so a Namespace cannot put pods on another project's network.
import type { V1Namespace } from '@kubernetes/client-node';
import type { NeutronPortsConfig } from './config.js';
import { NEUTRON_ID_RE } from './config.js';
import { NEUTRON_REASON, NeutronRefusal } from './problems.js';

export const NS_SUBNET_ANNOTATION = 'tessera.io/neutron-subnet';
export const NS_SECURITY_GROUPS_ANNOTATION = 'tessera.io/neutron-security-groups';

export interface PortChoice {
  subnetId: string;
  /** The configured network; undefined when the Namespace picks a subnet (its network comes from Neutron). */
  networkId?: string;
  securityGroups: string[];
}

export function portChoice(cfg: NeutronPortsConfig, ns: V1Namespace | undefined): PortChoice {
  const ann = ns?.metadata?.annotations ?? {};
  const name = ns?.metadata?.name ?? '';
  const subnet = ann[NS_SUBNET_ANNOTATION]?.trim();
  const groups = ann[NS_SECURITY_GROUPS_ANNOTATION];
  if (subnet !== undefined && !NEUTRON_ID_RE.test(subnet)) {
    throw new NeutronRefusal(NEUTRON_REASON.namespaceRefused, `Namespace ${name}: ${NS_SUBNET_ANNOTATION} "${subnet.slice(0, 64)}" is not a Neutron id`);
  }
  let securityGroups = cfg.securityGroups;
  if (groups !== undefined) {
    securityGroups = groups.split(',').map((g) => g.trim()).filter(Boolean);
    const bad = securityGroups.find((g) => !NEUTRON_ID_RE.test(g));
    if (bad !== undefined || securityGroups.length > 16) {
      throw new NeutronRefusal(NEUTRON_REASON.namespaceRefused, `Namespace ${name}: ${NS_SECURITY_GROUPS_ANNOTATION} must be up to 16 comma-separated Neutron ids`);
    }
  }
  return subnet ? { subnetId: subnet, securityGroups } : { subnetId: cfg.subnetId, networkId: cfg.networkId, securityGroups };
}
