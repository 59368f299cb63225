// The trace summary an operator reads: each ACL with the NB ACL and NetworkPolicy it comes from, the load
// balancer's backends and the one chosen, routes, NAT, the verdict, and the chassis the packet leaves on.
import type { ACL, LogicalSwitchPort } from '../../lib/ovsdb/models/nb.js';
import type { Chassis, PortBinding } from '../../lib/ovsdb/models/sb.js';
import type { AclHit, TraceSummary } from './parse.js';

export interface AclOwner {
  /** NB ACL direction and action. */
  direction?: string;
  action?: string;
  /** "ns/name" of the NetworkPolicy (tessera.io/network-policy), or the kind/object that owns it. */
  owner?: string;
  rule?: string;
  name?: string;
}

export interface TraceReport {
  from: string;
  to: string;
  summary: TraceSummary;
  acls: Array<AclHit & AclOwner>;
  /** The backend the packet went to (from the port it was delivered to). */
  lbChosen?: string;
  verdict: 'delivered' | 'forwarded' | 'drop' | 'unknown';
  /** Chassis where the source port is bound. */
  entersOn?: string;
  /** Chassis of the last output port bound to one (the VIF delivered to, or the gateway router's localnet exit). */
  leavesOn?: string;
  lastPort?: string;
}

/** The NB ACL behind a logical flow: same direction and priority, its match inside the flow's match. */
export function aclOwner(hit: AclHit, acls: ACL[]): AclOwner {
  const dir = hit.stage.startsWith('ls_in') ? 'from-lport' : 'to-lport';
  const acl = acls.find((a) => a.direction === dir && a.priority === hit.aclPriority && hit.match.includes(`(${a.match})`))
    ?? acls.find((a) => a.direction === dir && a.priority === hit.aclPriority && hit.match.includes(a.match));
  if (!acl) return {};
  const x = acl.external_ids;
  const owner = x['tessera.io/network-policy'] ? `NetworkPolicy ${x['tessera.io/network-policy']}` : x['tessera.io/object'] ? `${x['tessera.io/kind'] ?? 'owner'} ${x['tessera.io/object']}` : undefined;
  return { direction: acl.direction, action: acl.action, ...(owner ? { owner } : {}), ...(x['tessera.io/rule'] ? { rule: x['tessera.io/rule'] } : {}), ...(acl.name ? { name: acl.name } : {}) };
}

export function buildReport(o: { from: string; to: string; summary: TraceSummary; inport: string; nbAcls: ACL[]; lsps: LogicalSwitchPort[]; bindings: PortBinding[]; chassis: Chassis[] }): TraceReport {
  const s = o.summary;
  const chassisName = (uuid?: string): string | undefined => (uuid ? o.chassis.find((c) => c._uuid === uuid)?.name : undefined);
  const pb = (port: string): PortBinding | undefined => o.bindings.find((b) => b.logical_port === port);
  let leavesOn: string | undefined;
  for (const out of s.outputs) leavesOn = chassisName(pb(out.port)?.chassis) ?? leavesOn;
  const last = s.outputs[s.outputs.length - 1];
  let lbChosen: string | undefined;
  if (s.lbs.length && last && last.type === '') {
    const lsp = o.lsps.find((p) => p.name === last.port);
    const ips = (lsp?.addresses ?? []).flatMap((a) => a.split(' ').slice(1));
    lbChosen = s.lbs[s.lbs.length - 1].backends.find((b) => ips.includes(b.split(':')[0]));
  }
  const verdict = s.verdict === 'drop' ? 'drop' : s.verdict === 'output' ? (last?.type === '' ? 'delivered' : 'forwarded') : 'unknown';
  return {
    from: o.from, to: o.to, summary: s, acls: s.acls.map((a) => ({ ...a, ...aclOwner(a, o.nbAcls) })),
    ...(lbChosen ? { lbChosen } : {}), verdict,
    ...(chassisName(pb(o.inport)?.chassis) ? { entersOn: chassisName(pb(o.inport)?.chassis) } : {}),
    ...(leavesOn ? { leavesOn } : {}), ...(last ? { lastPort: last.port } : {}),
  };
}

function aclLine(a: AclHit & AclOwner): string {
  const who = [a.owner, a.rule !== undefined ? `rule ${a.rule}` : undefined, a.name ? `name ${a.name}` : undefined].filter(Boolean).join(', ');
  return `  ACL      ${a.stage} priority ${a.aclPriority} ${a.action ?? a.verdict}${who ? ` (${who})` : ''}\n           match: ${a.match}`;
}

export function formatReport(r: TraceReport): string {
  const s = r.summary;
  const lines = [`trace ${r.from} -> ${r.to}`, `  path     ${s.datapaths.join(' -> ')}`];
  for (const a of r.acls) lines.push(aclLine(a));
  for (const lb of s.lbs) lines.push(`  LB       ${lb.vip} on ${lb.dp}: backends ${lb.backends.join(', ')}${r.lbChosen ? `; chosen ${r.lbChosen} (${r.lastPort})` : ''}`);
  for (const rt of s.routes) lines.push(`  route    ${rt.dp}: ${rt.prefix} -> ${rt.outport}${rt.nexthop ? ` via ${rt.nexthop}` : ' (connected)'}`);
  for (const n of s.nats) lines.push(`  NAT      ${n.kind} to ${n.ip} on ${n.dp}`);
  const v = r.verdict === 'drop' ? `drop (by ${s.droppedBy?.stage} on ${s.droppedBy?.dp}, priority ${s.droppedBy?.priority})` : r.verdict === 'delivered' ? `delivered to ${r.lastPort}` : r.verdict === 'forwarded' ? `forwarded out ${r.lastPort}` : 'unknown (see --raw)';
  lines.push(`  verdict  ${v}`);
  lines.push(`  chassis  enters on ${r.entersOn ?? '?'}${r.verdict === 'drop' ? '' : `, leaves on ${r.leavesOn ?? '?'}`}`);
  return lines.join('\n');
}
