// How a node becomes an OVN-IC gateway. The watcher labels gw-nodes; the node agent mirrors the label into its
// Open_vSwitch external_ids:ovn-is-interconn, which ovn-controller 23.03 copies to SB Chassis
// other_config:is-interconn and ovn-ic then publishes as an IC-SB Gateway. Writing the SB Chassis directly would be
// undone by ovn-controller on its next run, so the node's own OVS config is the only durable switch.

/** Node label the watcher sets on every gw-node of the applied ovn-ic-config. */
export const IC_GATEWAY_LABEL = 'tessera.io/ic-gw';

/** Open_vSwitch external_ids key ovn-controller reads. */
export const OVS_INTERCONN_KEY = 'ovn-is-interconn';

/** SB Chassis other_config key ovn-controller writes from it, and ovn-ic reads. */
export const SB_CHASSIS_INTERCONN_KEY = 'is-interconn';

/** Whether a node with these labels must be an interconnection gateway. */
export const isInterconnGateway = (labels: Record<string, string> | undefined): boolean => labels?.[IC_GATEWAY_LABEL] === 'true';

/**
 * The Open_vSwitch external_ids change that makes the node match its labels: `{ set: "true" }` or `{ remove }`
 * (absent means "not a gateway"), or undefined when nothing needs to change.
 */
export function interconnFlagChange(labels: Record<string, string> | undefined, externalIds: Record<string, string>): { set: 'true' } | { remove: true } | undefined {
  const want = isInterconnGateway(labels);
  const has = externalIds[OVS_INTERCONN_KEY] === 'true';
  if (want && !has) return { set: 'true' };
  if (!want && OVS_INTERCONN_KEY in externalIds) return { remove: true };
  return undefined;
}
