// IPAM consistency: annotations are unique and inside their node's subnet, and the watcher's allocator counts the
// same number of addresses per switch as there are pods annotated on it (tessera_watcher_ipam_used_addresses).
import type { V1Pod } from '@kubernetes/client-node';
import { NODE_SUBNET_ANNOTATION, POD_NETWORKS_ANNOTATION, parsePodNetworks } from '../../lib/kube/annotations.js';
import { fail, ok, type CheckResult } from './result.js';
import type { Snapshot } from './snapshot.js';

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, len] = cidr.split('/');
  const bits = Number(len);
  const span = 2 ** (32 - bits);
  return Math.floor(ipToInt(ip) / span) === Math.floor(ipToInt(base) / span);
}

/** `tessera_watcher_ipam_used_addresses{switch="node1",subnet="..."} 2` → { node1: 2 }. */
export function parseIpamUsed(metrics: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of metrics.matchAll(/^tessera_watcher_ipam_used_addresses\{[^}]*switch="([^"]+)"[^}]*\} (\d+)/gm)) m.set(x[1], Number(x[2]));
  return m;
}

function podIp(p: V1Pod): { ip: string; ls: string } | undefined {
  try {
    const n = parsePodNetworks(p.metadata?.annotations?.[POD_NETWORKS_ANNOTATION])?.default;
    const ip = n?.ip_addresses?.[0]?.split('/')[0];
    return ip ? { ip, ls: n?.logical_switch || p.spec?.nodeName || '' } : undefined;
  } catch {
    return undefined;
  }
}

export function ipamChecks(s: Snapshot): CheckResult[] {
  const out: CheckResult[] = [];
  const byIp = new Map<string, string[]>();
  const perSwitch = new Map<string, number>();
  for (const p of s.pods.filter((x) => !x.spec?.hostNetwork)) {
    const a = podIp(p);
    if (!a) continue;
    const pid = `${p.metadata?.namespace}/${p.metadata?.name}`;
    byIp.set(a.ip, [...(byIp.get(a.ip) ?? []), pid]);
    perSwitch.set(a.ls, (perSwitch.get(a.ls) ?? 0) + 1);
    const subnet = s.nodes.find((n) => n.metadata?.name === p.spec?.nodeName)?.metadata?.annotations?.[NODE_SUBNET_ANNOTATION];
    if (subnet && !inCidr(a.ip, subnet)) out.push(fail('ipam', pid, `annotation IP ${a.ip} is outside node ${p.spec?.nodeName}'s subnet ${subnet}`, `the annotation was edited or the pod moved: delete the pod to re-allocate`));
  }
  for (const [ip, owners] of byIp) if (owners.length > 1) out.push(fail('ipam', ip, `annotated on ${owners.join(', ')}`, 'two pods claim one address: delete all but one of them'));
  if (s.watcherMetrics.text) {
    const used = parseIpamUsed(s.watcherMetrics.text);
    for (const [ls, n] of used) {
      const annotated = perSwitch.get(ls) ?? 0;
      if (annotated !== n) out.push(fail('ipam', `allocator ${ls}`, `watcher holds ${n} addresses, ${annotated} pods are annotated on ${ls}`, 'the allocator and the annotations disagree: restart tessera-watcher (it rebuilds the allocator from NB and the annotations)'));
    }
    if (!out.length) out.push(ok('ipam', 'addresses', `${byIp.size} pod addresses unique, in their node subnets, matching the watcher's allocator (${[...used].map(([k, v]) => `${k}: ${v}`).join(', ')})`));
  } else if (!out.length) {
    out.push(ok('ipam', 'addresses', `${byIp.size} pod addresses unique and in their node subnets (allocator not compared: ${s.watcherMetrics.error})`));
  }
  return out;
}
