// A known OVN 23.03 problem the multi-cluster lab detects rather than hides: ovn-ic sets the transit switch port's
// requested-tnl-key a moment after the port is created, northd re-keys the Port_Binding, and ovn-controller's
// incremental processing keeps the router -> transit switch patch flow with the port's old key (table 65 loads the
// old reg14). Packets then leave the gateway with the wrong ingress key and the remote AZ drops them as looped.
// Reproduce by hand: change options:requested-tnl-key of any router-type LSP and compare the SB tunnel_key with
// `ovs-ofctl dump-flows br-int table=65` on a chassis. A full recompute (ovn-appctl ... recompute) repairs it.
import { join } from 'node:path';
import { run } from './exec.js';
import type { Lab } from './cluster.js';
import { ovnControllerCtl } from './ovs-node.js';

export interface StalePatchFlow {
  node: string;
  port: string;
  sbKey: number;
  flowKey: number;
}

/** Gateway-node patch flows into the transit switch whose ingress key differs from the SB tunnel_key of the ts port. */
export async function staleTransitFlows(lab: Lab, az: string, gwNode: string): Promise<StalePatchFlow[]> {
  const node = lab.nodes.find((n) => n.name === gwNode);
  if (!node) return [];
  const dpKey = (await lab.sbctl(['--bare', '--columns=tunnel_key', 'find', 'Datapath_Binding', 'external_ids:interconn-ts=ts'])).trim();
  const port = `ts-${az}`;
  const portKey = (await lab.sbctl(['--bare', '--columns=tunnel_key', 'find', 'Port_Binding', `logical_port=${port}`])).trim();
  if (!dpKey || !portKey) return [];
  const flows = await run('ovs-ofctl', ['dump-flows', `unix:${join(node.dir, 'br-int.mgmt')}`, 'table=65']);
  return patchKeysInto(flows, Number(dpKey)).filter((k) => k !== Number(portKey)).map((flowKey) => ({ node: gwNode, port, sbKey: Number(portKey), flowKey }));
}

/** Ingress port keys (reg14) that table-65 patch flows load when they move a packet into datapath `dpKey`. */
export function patchKeysInto(flows: string, dpKey: number): number[] {
  const hex = `0x${dpKey.toString(16)}`;
  return [...flows.matchAll(new RegExp(`load:${hex}->OXM_OF_METADATA\\[\\],load:(0x[0-9a-f]+)->NXM_NX_REG14\\[\\]`, 'g'))].map((m) => Number(m[1]));
}

/** Forces ovn-controller on `node` to recompute all flows. */
export async function recompute(lab: Lab, nodeName: string): Promise<void> {
  const node = lab.nodes.find((n) => n.name === nodeName);
  const ctl = node && ovnControllerCtl(node);
  if (!ctl) throw new Error(`no ovn-controller control socket on ${nodeName}`);
  await run('ovs-appctl', ['-t', ctl, 'recompute']);
}

/**
 * Waits until ovn-ic has keyed this AZ's transit switch port (NB requested-tnl-key = SB tunnel_key), gives
 * ovn-controller a second to follow, and recomputes the gateway node if its patch flow is still stale. Returns
 * what it repaired (empty when OVN behaved), so callers can report it.
 */
export async function settleTransitFlows(lab: Lab, az: string, gwNode: string): Promise<StalePatchFlow[]> {
  const port = `ts-${az}`;
  const keyed = async (): Promise<boolean> => {
    const nb = (await lab.nbctl(['--if-exists', 'get', 'Logical_Switch_Port', port, 'options:requested-tnl-key']).catch(() => '')).replace(/"/g, '').trim();
    const sb = (await lab.sbctl(['--bare', '--columns=tunnel_key', 'find', 'Port_Binding', `logical_port=${port}`])).trim();
    return nb !== '' && nb === sb;
  };
  for (let i = 0; i < 50 && !(await keyed()); i++) await new Promise((r) => setTimeout(r, 200));
  if ((await staleTransitFlows(lab, az, gwNode)).length === 0) return [];
  await new Promise((r) => setTimeout(r, 1000));
  const stale = await staleTransitFlows(lab, az, gwNode);
  if (stale.length > 0) await recompute(lab, gwNode);
  return stale;
}
