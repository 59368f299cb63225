// VLAN tags of nested pods, per parent port (the VM's NIC). NB is the truth: the tags in use on a parent are the
// `tag` of the switch ports whose parent_name is that parent, so a restarted watcher recovers them from its NB
// cache with no state of its own. What this module keeps is only the tags handed out but not yet seen in NB (a
// transaction in flight), so that two pods synced at once cannot get the same tag.
import type { Cache } from '../../lib/ovsdb/cache.js';
import type { NBTables } from '../../lib/ovsdb/models/nb.js';
import { VLAN_ID_MAX, VLAN_ID_MIN } from '../../lib/kube/annotations.js';

export class VlanTagsExhaustedError extends Error {
  constructor(readonly parent: string, readonly range: VlanRange) {
    super(`parent port ${parent} has no free VLAN tag (${range.min}-${range.max} all in use by its child ports)`);
  }
}

export interface VlanRange {
  min: number;
  max: number;
}

export const FULL_VLAN_RANGE: VlanRange = { min: VLAN_ID_MIN, max: VLAN_ID_MAX };

/** "100-199" → { min: 100, max: 199 }; throws on anything outside 1..4094 or reversed. */
export function parseVlanRange(text: string): VlanRange {
  const m = /^(\d{1,4})-(\d{1,4})$/.exec(text.trim());
  const min = m ? Number(m[1]) : NaN;
  const max = m ? Number(m[2]) : NaN;
  if (!m || min < VLAN_ID_MIN || max > VLAN_ID_MAX || min > max) throw new Error(`VLAN range "${text}" must be MIN-MAX within ${VLAN_ID_MIN}-${VLAN_ID_MAX}`);
  return { min, max };
}

/** The tag a child port carries (tag, else the tag it requested). */
export function portTag(row: { tag?: number; tag_request?: number }): number | undefined {
  return row.tag ?? (row.tag_request ? row.tag_request : undefined);
}

export class VlanTags {
  /** Tags handed out per parent, by port name: dropped once NB shows that port with that tag, or on release. */
  private readonly pending = new Map<string, Map<string, number>>();

  constructor(private readonly cache: Cache<NBTables>, readonly range: VlanRange = FULL_VLAN_RANGE) {}

  /** Tag → port name of the child ports of `parent`, as NB and the in-flight hand-outs have them. */
  used(parent: string): Map<number, string> {
    const out = new Map<number, string>();
    for (const lsp of this.cache.lookupAll('Logical_Switch_Port', 'parent_name', parent)) {
      const t = portTag(lsp);
      if (t !== undefined && !out.has(t)) out.set(t, lsp.name);
    }
    const mine = this.pending.get(parent);
    for (const [port, t] of mine ?? []) {
      const inNb = this.cache.lookupAll('Logical_Switch_Port', 'name', port).some((l) => l.parent_name === parent && portTag(l) === t);
      if (inNb) mine!.delete(port);
      else if (!out.has(t)) out.set(t, port);
    }
    return out;
  }

  /**
   * The tag for `port` on `parent`: the one NB already has for it when no other port claims that tag too, else
   * the lowest free tag in the range. Throws VlanTagsExhaustedError when every tag is in use.
   */
  tagFor(parent: string, port: string): number {
    const own = this.cache.lookupAll('Logical_Switch_Port', 'name', port).find((l) => l.parent_name === parent);
    const ownTag = own && portTag(own);
    const pend = this.pending.get(parent)?.get(port);
    const used = this.used(parent);
    for (const t of [ownTag, pend]) {
      if (t !== undefined && t >= this.range.min && t <= this.range.max && (used.get(t) ?? port) === port && !this.sharedInNb(parent, t, port)) {
        return this.hold(parent, port, t);
      }
    }
    for (let t = this.range.min; t <= this.range.max; t++) if (!used.has(t)) return this.hold(parent, port, t);
    throw new VlanTagsExhaustedError(parent, this.range);
  }

  /** Forgets the port's in-flight hand-outs (the pod went); its NB row, if any, is deleted by its writer. */
  release(port: string): void {
    for (const m of this.pending.values()) m.delete(port);
  }

  /** Another NB child port of the parent carries this tag too (a conflict a hand-edit could make): the port moves off it. */
  private sharedInNb(parent: string, tag: number, port: string): boolean {
    return this.cache.lookupAll('Logical_Switch_Port', 'parent_name', parent).some((l) => l.name !== port && portTag(l) === tag);
  }

  private hold(parent: string, port: string, tag: number): number {
    let m = this.pending.get(parent);
    if (!m) this.pending.set(parent, (m = new Map()));
    m.set(port, tag);
    return tag;
  }
}
