// Restores the OVS rows the agent owns for a pod when someone else deletes or edits them: the pod's br-int port
// (Port + Interface) and its Interface external_ids (iface-id, iface-id-ver, attached_mac, ip_addresses, sandbox,
// ifname), which ovn-controller binds the logical port by. Driven by the agent's OVS monitor, on the shared work
// queue, rate-limited, with per-port exponential backoff and a loud warning when the same port keeps being
// reverted. A port whose pod is gone, or whose host veth is gone, is forgotten instead (reconcile removes it).
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../lib/log.js';
import type { InformerCore as Informer } from '../lib/kube/informer-core.js';
import type { NodeNetdev } from '../lib/netdev/index.js';
import type { ChangeEvent } from '../lib/ovsdb/index.js';
import type { VSWITCHTables } from '../lib/ovsdb/models/vswitch.js';
import { WorkQueue } from '../lib/workqueue.js';
import { KeyBackoff, TokenBucket } from '../lib/rate-limit.js';
import { OvsPorts } from './ovs-ports.js';

export class PortRepair {
  readonly queue: WorkQueue;
  private readonly bucket = new TokenBucket(20, 50);
  private readonly backoff = new KeyBackoff({ baseMs: 1000, maxMs: 300_000, quietMs: 30_000 });
  private readonly seen = new Map<string, string>();
  repairs = 0;

  constructor(private readonly ports: OvsPorts, private readonly netdev: NodeNetdev, private readonly pods: Informer<V1Pod>, private readonly inflight: Set<string>, private readonly log: Logger) {
    this.queue = new WorkQueue((n) => this.repair(n), {
      name: 'ovs-port-repair', workers: 1, baseDelayMs: 500, maxDelayMs: 30_000,
      onError: (n, err) => log.warn('restoring a pod port failed; retrying', { port: n, error: err instanceof Error ? err.message : String(err) }),
    });
  }

  /** Every change of the OVS monitor; our own adds and deletes update `wanted` before their updates arrive. */
  observe(ev: ChangeEvent<VSWITCHTables>): void {
    if (ev.table !== 'Interface') return;
    const name = (ev.old ?? ev.row).name;
    const want = this.ports.wanted(name);
    if (!want || this.inflight.has(name)) return;
    if (ev.kind === 'insert') return;
    if (ev.kind === 'update' && !this.idsDiffer(ev.row.external_ids, want)) return;
    this.seen.set(name, ev.kind === 'delete' ? 'port deleted' : `external_ids edited: ${JSON.stringify(ev.old?.external_ids ?? {})} -> ${JSON.stringify(ev.row.external_ids)}`);
    this.queue.addAfter(name, Math.max(this.bucket.take(), this.backoff.nextDelay(name)));
  }

  stop(): void {
    this.queue.shutdown();
  }

  private idsDiffer(have: Record<string, string>, want: Parameters<typeof OvsPorts.podIds>[0]): boolean {
    return Object.entries(OvsPorts.podIds(want)).some(([k, v]) => have[k] !== v);
  }

  private async repair(name: string): Promise<void> {
    const want = this.ports.wanted(name);
    const what = this.seen.get(name) ?? 'changed';
    this.seen.delete(name);
    if (!want || this.inflight.has(name)) return;
    const sep = want.ifaceId.indexOf('_');
    const pod = sep > 0 ? this.pods.get(want.ifaceId.slice(sep + 1), want.ifaceId.slice(0, sep)) : undefined;
    if (!pod || (want.podUid && pod.metadata?.uid !== want.podUid) || !this.netdev.hostLink(name)) {
      this.ports.forget(name); // nothing to restore for: reconcile takes the rest away
      return;
    }
    const iface = this.ports.iface(name);
    const t0 = Date.now();
    if (!iface || !this.ports.port(name)) await this.ports.addPodPort(want);
    else if (this.idsDiffer(iface.external_ids, want)) await this.ports.restoreIds(want);
    else return;
    this.repairs++;
    const { streak } = this.backoff.hit(name);
    this.log.info(`OVS drift repaired: pod port ${name} of ${want.ifaceId} (${what}) restored in ${Date.now() - t0} ms`, { port: name, pod: want.ifaceId });
    if (streak >= 3) {
      this.log.warn(`another writer keeps changing pod port ${name} of ${want.ifaceId} (${streak} repairs in a row, last: ${what}); ` +
        `repairs back off (next after ${Math.round(this.backoff.nextDelay(name) / 1000)} s). Find and stop the other writer.`, { port: name, streak });
    }
  }
}
