// Which prefixes ovn-ic must neither advertise nor learn: Subnets with disableInterConnection, and every prefix
// that overlaps a prefix of another AZ. Both go into NB_Global options:ic-route-blacklist, the filter OVN 23.03
// applies in both directions ("a route will not be advertised or learned if its prefix belongs to a listed CIDR").
import { overlaps, parseCIDR, formatCIDR, type IPNet } from '../../lib/ipnet/index.js';

/** A prefix this AZ would advertise: a router port network or a static route of ovn_cluster_router. */
export interface LocalPrefix {
  prefix: string;
  /** What it is, for reports: "router port rtos-node1", "static route". */
  source: string;
}

/** A route another AZ advertises in IC-SB. */
export interface RemoteRoute {
  az: string;
  prefix: string;
  nexthop: string;
}

export interface Overlap {
  prefix: string;
  with: string;
  /** One line a user can act on. */
  message: string;
}

export interface RoutePlan {
  /** Sorted, deduplicated CIDRs for ic-route-blacklist. */
  denylist: string[];
  /** Newly found overlaps (not already in `sticky`). */
  overlaps: Overlap[];
}

function net(prefix: string): IPNet | undefined {
  try {
    // ovn-ic writes host routes without a length ("10.42.1.1"); treat them as /32 (/128).
    return parseCIDR(prefix.includes('/') ? prefix : `${prefix}/${prefix.includes(':') ? 128 : 32}`, { strict: false });
  } catch {
    return undefined;
  }
}

const canon = (prefix: string): string => {
  const n = net(prefix);
  return n ? formatCIDR(n) : prefix;
};

const LINK_LOCAL = [parseCIDR('169.254.0.0/16'), parseCIDR('fe80::/10')];
/** ovn-ic never advertises link-local prefixes (the ts subnet among them). */
export const isLinkLocal = (prefix: string): boolean => {
  const n = net(prefix);
  return n !== undefined && LINK_LOCAL.some((l) => l.family === n.family && overlaps(l, n));
};

/**
 * Plans the denylist. `sticky` holds overlap prefixes found earlier while this config was applied: once an
 * overlap withdrew a route, the peer no longer sees it, so forgetting it would make both AZs flap.
 */
export function planRoutes(o: { local: LocalPrefix[]; remote: RemoteRoute[]; disabledSubnets: string[]; sticky: string[] }): RoutePlan {
  const deny = new Set<string>([...o.disabledSubnets.map(canon), ...o.sticky.map(canon)]);
  const found: Overlap[] = [];
  const flag = (a: string, b: string, message: string): void => {
    const newA = !deny.has(canon(a));
    const newB = !deny.has(canon(b));
    deny.add(canon(a));
    deny.add(canon(b));
    if (newA || newB) found.push({ prefix: canon(a), with: canon(b), message });
  };
  const disabled = o.disabledSubnets.map(net).filter((n): n is IPNet => n !== undefined);
  const local = o.local.filter((l) => !isLinkLocal(l.prefix)).filter((l) => {
    const n = net(l.prefix);
    return n !== undefined && !disabled.some((d) => d.family === n.family && d.prefix <= n.prefix && overlaps(d, n));
  });
  const remote = o.remote.filter((r) => !isLinkLocal(r.prefix) && net(r.prefix) !== undefined);
  for (const l of local) {
    const ln = net(l.prefix)!;
    for (const r of remote) {
      const rn = net(r.prefix)!;
      if (ln.family === rn.family && overlaps(ln, rn)) {
        flag(l.prefix, r.prefix, `local ${canon(l.prefix)} (${l.source}) overlaps ${canon(r.prefix)} advertised by AZ ${r.az}: neither is advertised nor learned; connect them with manual routes (auto-route: "false") if needed`);
      }
    }
  }
  for (let i = 0; i < remote.length; i++) {
    for (let j = i + 1; j < remote.length; j++) {
      const a = remote[i];
      const b = remote[j];
      if (a.az === b.az) continue;
      const an = net(a.prefix)!;
      const bn = net(b.prefix)!;
      if (an.family === bn.family && overlaps(an, bn)) {
        flag(a.prefix, b.prefix, `${canon(a.prefix)} advertised by AZ ${a.az} overlaps ${canon(b.prefix)} advertised by AZ ${b.az}: neither is learned here`);
      }
    }
  }
  return { denylist: [...deny].sort(), overlaps: found };
}
