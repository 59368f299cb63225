// Watch fan-out for the test double's store: the bounded event history that watches resume from, and the watchers
// each stored change goes to, seen through their filters (an object leaving a watcher's selector is DELETED to it).
import type { KubeObject, ResourceType } from './resources.js';
import { errors } from './status.js';
import { matchFields, matchLabels, type FieldRequirement, type LabelRequirement } from './selectors.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  rv: number;
  rt: ResourceType;
  type: EventType;
  object: KubeObject;
  /** The object before the change (MODIFIED), so selector watchers can see transitions. */
  old?: KubeObject;
  /** JSON of `object`, computed once and shared by every watcher. */
  json?: string;
}

export interface Filter {
  namespace?: string;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
}

export interface WatchSink {
  /** `json` is the object's serialization, shared across watchers. */
  send(type: EventType, event: StoreEvent, json: string): void;
}

interface Watcher {
  filter: Filter;
  sink: WatchSink;
}

/** Whether `obj` passes the filter's namespace, label selector and field selector. */
export function matches(rt: ResourceType, filter: Filter, obj: KubeObject): boolean {
  if (filter.namespace !== undefined && obj.metadata.namespace !== filter.namespace) return false;
  if (filter.labels.length && !matchLabels(filter.labels, obj.metadata.labels)) return false;
  if (filter.fields.length) {
    return matchFields(filter.fields, (f) => {
      if (f === 'metadata.name') return obj.metadata.name ?? '';
      if (f === 'metadata.namespace') return obj.metadata.namespace ?? '';
      const get = rt.fields[f];
      return get ? get(obj) : '';
    });
  }
  return true;
}

export class WatchHub {
  private readonly history: StoreEvent[] = [];
  /** resourceVersion of the newest event dropped from history: watches must start at or after it. */
  private compactedRV = 0;
  private readonly watchers = new Map<ResourceType, Set<Watcher>>();

  /** `json` serializes a stored object (the store makes it once per object). */
  constructor(private readonly historySize: number, private readonly json: (obj: KubeObject) => string) {}

  /** The oldest resourceVersion a watch can still resume from. */
  get oldestResumableVersion(): number {
    return this.compactedRV;
  }

  /**
   * Starts a watch at `fromRV` (the store is at `currentRV`); without one, the objects `current()` lists go out
   * first as ADDED. Returns what ends the watch.
   */
  watch(rt: ResourceType, filter: Filter, sink: WatchSink, fromRV: number | undefined, currentRV: number, current: () => KubeObject[]): () => void {
    if (fromRV !== undefined && fromRV < this.compactedRV) throw errors.gone(`too old resource version: ${fromRV} (${this.compactedRV})`);
    // A version this server never issued (the client saw a previous incarnation of it): make the
    // client relist rather than wait for versions that will mean something else.
    if (fromRV !== undefined && fromRV > currentRV) throw errors.gone(`resource version ${fromRV} is newer than the server's (${currentRV}); relist`);
    if (fromRV === undefined) {
      // No resourceVersion: the current state as ADDED events, then changes.
      for (const o of current()) sink.send('ADDED', { rv: Number(o.metadata.resourceVersion), rt, type: 'ADDED', object: o }, this.json(o));
    } else {
      for (const ev of this.history) if (ev.rt === rt && ev.rv > fromRV) this.deliver(ev, filter, sink);
    }
    const entry = { filter, sink };
    const set = this.watchersOf(rt);
    set.add(entry);
    return () => set.delete(entry);
  }

  /** Records a stored change and sends it to the watchers of its resource type. */
  emit(ev: StoreEvent): void {
    this.history.push(ev);
    while (this.history.length > this.historySize) this.compactedRV = (this.history.shift() as StoreEvent).rv;
    for (const w of this.watchers.get(ev.rt) ?? []) this.deliver(ev, w.filter, w.sink);
  }

  private watchersOf(rt: ResourceType): Set<Watcher> {
    let set = this.watchers.get(rt);
    if (!set) this.watchers.set(rt, (set = new Set()));
    return set;
  }

  private deliver(ev: StoreEvent, filter: Filter, sink: WatchSink): void {
    const now = matches(ev.rt, filter, ev.object);
    const before = ev.type === 'MODIFIED' && ev.old ? matches(ev.rt, filter, ev.old) : now;
    let type: EventType;
    if (ev.type !== 'MODIFIED') {
      if (!now) return;
      type = ev.type;
    } else if (now && before) type = 'MODIFIED';
    else if (now) type = 'ADDED';
    else if (before) type = 'DELETED';
    else return;
    ev.json ??= this.json(ev.object);
    sink.send(type, ev, ev.json);
  }
}
