// Logical patch flows as ovn-controller installs them in br-int's table 65 (OFTABLE_LOG_TO_PHY): a packet leaving
// a patch port of one datapath re-enters the peer datapath with `load:<dp>->OXM_OF_METADATA[]` and
// `load:<port key>->NXM_NX_REG14[]` (the peer's tunnel key as the ingress port). OVN 23.03's incremental
// processing can keep the old key after a patch port is re-keyed (ovn-ic sets a transit switch port's
// requested-tnl-key just after creating it): such a flow no longer matches any port, and packets across it are
// dropped. A full recompute repairs it. Shared by the agent's watchdog and the lab's checks.

/** One datapath entry a table-65 flow performs: into datapath `dp`, as ingress port `key`. */
export interface PatchEntry {
  dp: number;
  key: number;
}

const ENTRY_RE = /load:(0x[0-9a-f]+)->OXM_OF_METADATA\[\],load:(0x[0-9a-f]+)->NXM_NX_REG14\[\]/g;

/** The patch entries of an `ovs-ofctl dump-flows br-int table=65` output, deduplicated. */
export function parsePatchEntries(dump: string): PatchEntry[] {
  const seen = new Set<string>();
  const out: PatchEntry[] = [];
  for (const m of dump.matchAll(ENTRY_RE)) {
    const e = { dp: Number(m[1]), key: Number(m[2]) };
    const k = `${e.dp}/${e.key}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  return out;
}

/** Ingress port keys that patch flows load when they move a packet into datapath `dp`. */
export function patchKeysInto(dump: string, dp: number): number[] {
  return parsePatchEntries(dump)
    .filter((e) => e.dp === dp)
    .map((e) => e.key);
}

/**
 * Entries whose port key is no patch port of that datapath in the Southbound database: stale flows. `ports` are
 * the SB Port_Bindings of type patch (datapath key, tunnel key). Datapaths with no patch port known are skipped,
 * so a partial view (a datapath not yet loaded) never reports a false alarm.
 */
export function stalePatchEntries(entries: PatchEntry[], ports: PatchEntry[]): PatchEntry[] {
  const byDp = new Map<number, Set<number>>();
  for (const p of ports) {
    let s = byDp.get(p.dp);
    if (!s) byDp.set(p.dp, (s = new Set()));
    s.add(p.key);
  }
  return entries.filter((e) => {
    const keys = byDp.get(e.dp);
    return keys !== undefined && !keys.has(e.key);
  });
}
