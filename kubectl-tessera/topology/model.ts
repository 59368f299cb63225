// The logical network from NB: routers (the cluster/VPC routers and the gateway routers), switches with their
// subnets and kinds (node, join, external, transit), which router ports connect which switches, SNATs, and how
// many pods sit on each switch.
import type { LogicalRouter, LogicalRouterPort, LogicalSwitch, LogicalSwitchPort, NAT } from '../../lib/ovsdb/models/nb.js';

export interface RouterView {
  name: string;
  kind: 'router' | 'gateway';
  /** Gateway routers are pinned to a chassis (options:chassis). */
  chassis?: string;
  ports: Array<{ name: string; networks: string[]; switch?: string }>;
  snat: string[];
}

export interface SwitchView {
  name: string;
  kind: 'node' | 'join' | 'external' | 'transit' | 'switch';
  subnet?: string;
  pods: number;
  routers: string[];
}

export interface Topology {
  routers: RouterView[];
  switches: SwitchView[];
}

function switchKind(ls: LogicalSwitch): SwitchView['kind'] {
  if (ls.other_config['interconn-ts']) return 'transit';
  if (ls.external_ids['tessera.io/kind'] === 'node') return 'node';
  if (ls.external_ids['tessera.io/role'] === 'external-switch') return 'external';
  if (ls.name === 'join') return 'join';
  return 'switch';
}

export function buildTopology(nb: { routers: LogicalRouter[]; lrps: LogicalRouterPort[]; switches: LogicalSwitch[]; lsps: LogicalSwitchPort[]; nats: NAT[] }): Topology {
  const lspById = new Map(nb.lsps.map((p) => [p._uuid, p]));
  const switchOfLrp = new Map<string, string>();
  const switches: SwitchView[] = nb.switches.map((ls) => {
    const ports = ls.ports.map((u) => lspById.get(u)).filter((p): p is LogicalSwitchPort => p !== undefined);
    for (const p of ports) if (p.type === 'router' && p.options['router-port']) switchOfLrp.set(p.options['router-port'], ls.name);
    const subnet = ls.other_config.subnet ?? ls.external_ids['tessera.io/subnet'];
    return { name: ls.name, kind: switchKind(ls), ...(subnet ? { subnet } : {}), pods: ports.filter((p) => p.external_ids['tessera.io/kind'] === 'pod').length, routers: [] };
  });
  const lrpById = new Map(nb.lrps.map((p) => [p._uuid, p]));
  const natById = new Map(nb.nats.map((n) => [n._uuid, n]));
  const routers: RouterView[] = nb.routers.map((r) => {
    const chassis = r.options.chassis;
    const ports = r.ports.map((u) => lrpById.get(u)).filter((p): p is LogicalRouterPort => p !== undefined)
      .map((p) => ({ name: p.name, networks: p.networks, ...(switchOfLrp.get(p.name) ? { switch: switchOfLrp.get(p.name) } : {}) }));
    for (const p of ports) {
      const sw = switches.find((s) => s.name === p.switch);
      if (sw && !sw.routers.includes(r.name)) sw.routers.push(r.name);
    }
    const snat = r.nat.map((u) => natById.get(u)).filter((n): n is NAT => n?.type === 'snat').map((n) => `${n.logical_ip} -> ${n.external_ip}`);
    return { name: r.name, kind: chassis ? 'gateway' : 'router', ...(chassis ? { chassis } : {}), ports, snat };
  });
  const byName = <T extends { name: string }>(a: T, b: T): number => a.name.localeCompare(b.name);
  routers.sort((a, b) => (a.kind === b.kind ? byName(a, b) : a.kind === 'router' ? -1 : 1));
  for (const r of routers) r.ports.sort(byName);
  // Each switch under the mean position of its routers: fewer crossing lines in the picture.
  const pos = (s: SwitchView): number => (s.routers.length ? s.routers.reduce((n, r) => n + routers.findIndex((x) => x.name === r), 0) / s.routers.length : routers.length);
  for (const s of switches) s.routers.sort();
  switches.sort((a, b) => pos(a) - pos(b) || byName(a, b));
  return { routers, switches };
}

export function formatTopology(t: Topology): string {
  const out: string[] = [];
  for (const r of t.routers) {
    out.push(`${r.kind === 'gateway' ? 'gateway router' : 'router'} ${r.name}${r.chassis ? ` (chassis ${r.chassis})` : ''}`);
    for (const p of r.ports) out.push(`  port ${p.name} ${p.networks.join(', ')}${p.switch ? ` -> switch ${p.switch}` : ''}`);
    for (const s of r.snat) out.push(`  snat ${s}`);
  }
  out.push('');
  for (const s of t.switches) out.push(`${s.kind === 'switch' ? 'switch' : `${s.kind} switch`} ${s.name}${s.subnet ? ` ${s.subnet}` : ''}: ${s.pods} pod${s.pods === 1 ? '' : 's'}${s.routers.length ? `, routers ${s.routers.join(', ')}` : ''}`);
  const ts = t.switches.filter((s) => s.kind === 'transit');
  out.push('', ts.length ? `transit switches: ${ts.map((s) => s.name).join(', ')}` : 'transit switches: none (no OVN-IC)');
  return out.join('\n');
}
