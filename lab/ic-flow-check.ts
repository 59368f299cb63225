// A known OVN 23.03 problem the multi-cluster lab detects rather than hides: ovn-ic sets the transit switch port's
// requested-tnl-key a moment after the port is created, northd re-keys the Port_Binding, and ovn-controller's
// incremental processing keeps the router -> transit switch patch flow with the port's old key (table 65 loads the
// old reg14). Packets then leave the gateway with the wrong ingress key and the remote AZ drops them as looped.
// Reproduce by hand: change options:requested-tnl-key of any router-type LSP and compare the SB tunnel_key with
// `ovs-ofctl dump-flows br-int table=65` on a chassis. A full recompute (ovn-appctl ... recompute) repairs it.
// tessera-agent's watchdog (agent/patch-flow-watchdog.ts) does that on its own; the lab checks that it did.
import { join } from 'node:path';
import { patchKeysInto } from '../lib/ovn/patch-flows.js';
import { run } from './exec.js';
import type { Lab } from './cluster.js';
import { ovnControllerCtl } from './ovs-node.js';

export interface StalePatchFlow {
  node: string;
  port: string;
  sbKey: number;
  flowKey: number;
  /** Who repaired it: the node's agent (its watchdog), or the lab because the agent had not within 15 s. */
  repairedBy?: 'agent' | 'lab';
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

/** Forces ovn-controller on `node` to recompute all flows. */
export async function recompute(lab: Lab, nodeName: string): Promise<void> {
  const node = lab.nodes.find((n) => n.name === nodeName);
  const ctl = node && ovnControllerCtl(node);
  if (!ctl) throw new Error(`no ovn-controller control socket on ${nodeName}`);
  await run('ovs-appctl', ['-t', ctl, 'recompute']);
}

/**
 * Waits until ovn-ic has keyed this AZ's transit switch port (NB requested-tnl-key = SB tunnel_key), then up to
 * 15 s for the gateway node's patch flow to carry that key: ovn-controller may follow by itself, or the agent's
 * watchdog has it recompute. If the flow is still stale the lab recomputes. Returns the stale flows seen, each
 * with who repaired it (empty when OVN behaved), so callers can report it.
 */
export async function settleTransitFlows(lab: Lab, az: string, gwNode: string): Promise<StalePatchFlow[]> {
  const port = `ts-${az}`;
  const keyed = async (): Promise<boolean> => {
    const nb = (await lab.nbctl(['--if-exists', 'get', 'Logical_Switch_Port', port, 'options:requested-tnl-key']).catch(() => '')).replace(/"/g, '').trim();
    const sb = (await lab.sbctl(['--bare', '--columns=tunnel_key', 'find', 'Port_Binding', `logical_port=${port}`])).trim();
    return nb !== '' && nb === sb;
  };
  for (let i = 0; i < 50 && !(await keyed()); i++) await new Promise((r) => setTimeout(r, 200));
  const first = await staleTransitFlows(lab, az, gwNode);
  if (first.length === 0) return [];
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 250));
    if ((await staleTransitFlows(lab, az, gwNode)).length === 0) return first.map((s) => ({ ...s, repairedBy: 'agent' as const }));
  }
  const stale = await staleTransitFlows(lab, az, gwNode);
  if (stale.length > 0) await recompute(lab, gwNode);
  return stale.map((s) => ({ ...s, repairedBy: 'lab' as const }));
}
