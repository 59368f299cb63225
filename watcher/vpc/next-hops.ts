// Pods that route for their Vpc. A pod's port normally carries port_security "<mac> <ip>": OVN then drops what the
// pod sends from another address and what is addressed to another one, so a pod cannot forward. A Vpc's
// staticRoutes and policyRoutes (cluster-scoped, written by the cluster admin) name next hops; the pod holding
// such an address in that Vpc gets MAC-only port security, so it can forward while its MAC stays pinned.
import { DEFAULT_VPC, type Vpc } from '../../lib/kube/kubeovn.js';
import { formatIP, parseIP } from '../../lib/ipnet/index.js';

/** The next-hop addresses a Vpc's routes name, canonical, sorted. */
export function nextHops(vpc: Vpc | undefined): string[] {
  const out = new Set<string>();
  const add = (s: string | undefined) => {
    try {
      if (s) out.add(formatIP(parseIP(s)));
    } catch {
      /* refused by the translation, with a condition */
    }
  };
  for (const r of vpc?.spec?.staticRoutes ?? []) add(r.nextHopIP);
  for (const p of vpc?.spec?.policyRoutes ?? []) if (p.action === 'reroute') add(p.nextHopIP);
  return [...out].sort();
}

/** Whether `ip` on switch `ls` forwards: `vpcOf` says which Vpc the switch is in (node switches: the default one). */
export function forwards(ls: string, ip: string, vpcOf: (ls: string) => string | undefined, vpc: (name: string) => Vpc | undefined): boolean {
  const v = vpcOf(ls) ?? DEFAULT_VPC;
  return nextHops(vpc(v)).includes(ip);
}
