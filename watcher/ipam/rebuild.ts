// Rebuilds pod addresses on start from what the watcher itself committed: its Logical_Switch_Ports
// (owner ids in external_ids). Pod annotations never claim an address: anyone allowed to patch a pod
// writes them. Should two ports carry one address, the older pod keeps it (creationTimestamp, then
// key), a port whose pod is gone (or is another incarnation of it) loses, and the loser's sync gives
// its pod a fresh address.
import { parseIP } from '../../lib/ipnet/index.js';
import type { PodIPAM } from './pod-ipam.js';

/** One address as an NB port of ours records it. */
export interface PortClaim {
  /** The owning pod's key, namespace/name (tessera.io/object). */
  owner: string;
  /** The port's switch. */
  ls: string;
  port: string;
  ip: string;
  /** tessera.io/pod-uid on the port, if it has one. */
  uid?: string;
}

/** What the rebuild needs to know of a live pod. */
export interface PodAge {
  uid?: string;
  creationTimestamp?: string | Date;
}

const NEVER = Number.POSITIVE_INFINITY;

function createdAt(p: PodAge | undefined): number {
  const t = p?.creationTimestamp;
  const ms = t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? NEVER : ms;
}

/** Claims in the order they win: claims of live pods, oldest pod first (ties by key), then claims of gone pods. */
export function claimOrder(claims: PortClaim[], podOf: (owner: string) => PodAge | undefined): PortClaim[] {
  const rank = (c: PortClaim): [number, number] => {
    const pod = podOf(c.owner);
    const live = !!pod && (!c.uid || !pod.uid || c.uid === pod.uid);
    return [live ? 0 : 1, live ? createdAt(pod) : NEVER];
  };
  const ranked = claims.map((c) => ({ c, r: rank(c) }));
  ranked.sort((a, b) => a.r[0] - b.r[0] || (a.r[1] === b.r[1] ? 0 : a.r[1] < b.r[1] ? -1 : 1) || cmp(a.c.owner, b.c.owner) || cmp(a.c.port, b.c.port));
  return ranked.map((x) => x.c);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Reserves every claim that wins; returns the losers with the reason, for the log. */
export function rebuildPodAddresses(ipam: PodIPAM, claims: PortClaim[], podOf: (owner: string) => PodAge | undefined): Array<{ claim: PortClaim; reason: string }> {
  const lost: Array<{ claim: PortClaim; reason: string }> = [];
  for (const c of claimOrder(claims, podOf)) {
    const s = ipam.forSwitch(c.ls);
    if (!s) continue;
    let reason: string | undefined;
    try {
      const held = ipam.holding(c.owner);
      if (held) reason = `${c.owner} already holds an address on ${held.ls}`;
      else reason = s.problem(parseIP(c.ip), c.owner);
    } catch (err) {
      reason = (err as Error).message;
    }
    if (reason) lost.push({ claim: c, reason });
    else ipam.reserve(c.ls, c.ip, c.owner);
  }
  return lost;
}
