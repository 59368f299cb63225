// Address invariants over NB and the pods, for the watcher's annotation-trust tests: no IP has two
// owners, every pod port carries exactly "<mac> <ip>" (unicast MAC, pod address of its switch's subnet),
// and every pod's annotation says what its port carries. Returns the violations, empty when it holds.
import { contains, offsetOf, parseCIDR, parseIP, size } from '../../../lib/ipnet/index.js';
import { macProblem } from '../../../watcher/ipam/requests.js';
import type { WatcherFixture } from './fixture.js';

type Phase = { phase?: string } | undefined;

export function addressViolations(f: WatcherFixture): string[] {
  const out: string[] = [];
  const owners = new Map<string, string[]>();
  const switchOf = new Map<string, string>();
  for (const ls of f.nb.cache.list('Logical_Switch')) for (const u of ls.ports) switchOf.set(u, ls.name);
  for (const lsp of f.nb.cache.list('Logical_Switch_Port')) {
    if (lsp.external_ids['tessera.io/kind'] !== 'pod') continue;
    const entry = lsp.addresses[0] ?? '';
    const [mac, ip, ...rest] = entry.split(' ');
    if (lsp.addresses.length !== 1 || rest.length || !ip) out.push(`${lsp.name}: addresses ${JSON.stringify(lsp.addresses)} is not one "<mac> <ip>"`);
    if (JSON.stringify(lsp.port_security) !== JSON.stringify(lsp.addresses)) out.push(`${lsp.name}: port_security ${JSON.stringify(lsp.port_security)} != addresses ${JSON.stringify(lsp.addresses)}`);
    if (macProblem(mac ?? '')) out.push(`${lsp.name}: MAC "${mac}" ${macProblem(mac ?? '')}`);
    const ls = f.ls(switchOf.get(lsp._uuid) ?? '');
    if (!ls) out.push(`${lsp.name}: on no switch`);
    else if (ip) {
      const subnet = parseCIDR(ls.other_config.subnet);
      let a;
      try {
        a = parseIP(ip);
      } catch {
        out.push(`${lsp.name}: "${ip}" is not an IP`);
      }
      if (a && !contains(subnet, a)) out.push(`${lsp.name}: ${ip} is not in ${ls.name}'s subnet ${ls.other_config.subnet}`);
      else if (a && (offsetOf(subnet, a) < 3n || offsetOf(subnet, a) === size(subnet) - 1n)) out.push(`${lsp.name}: ${ip} is an excluded address of ${ls.other_config.subnet}`);
    }
    if (ip) owners.set(ip, [...(owners.get(ip) ?? []), lsp.name]);
  }
  for (const [ip, ports] of owners) if (ports.length > 1) out.push(`${ip} is on ${ports.length} ports: ${ports.join(', ')}`);
  for (const p of f.list('pod')) {
    const { namespace, name } = p.metadata as { namespace: string; name: string };
    const phase = (p.status as Phase)?.phase;
    if ((p.spec as { hostNetwork?: boolean }).hostNetwork || phase === 'Failed' || phase === 'Succeeded') continue;
    const lsp = f.lsp(`${namespace}_${name}`);
    let net: ReturnType<WatcherFixture['podNetwork']>;
    try {
      net = f.podNetwork(namespace, name);
    } catch {
      out.push(`${name}: annotation is not JSON`);
      continue;
    }
    if (!lsp) {
      if (net) out.push(`${name}: annotated ${JSON.stringify(net)} but has no port`);
      continue;
    }
    const [mac, ip] = lsp.addresses[0]?.split(' ') ?? [];
    const ls = switchOf.get(lsp._uuid);
    const want = ls && { ip_addresses: [`${ip}/${f.ls(ls)!.other_config.subnet.split('/')[1]}`], mac_address: mac, logical_switch: ls };
    const got = net && { ip_addresses: net.ip_addresses, mac_address: net.mac_address, logical_switch: net.logical_switch };
    if (JSON.stringify(got) !== JSON.stringify(want)) out.push(`${name}: annotation ${JSON.stringify(got)} != port ${JSON.stringify(want)}`);
  }
  return out;
}
