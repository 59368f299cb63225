// Lease-based leader election (coordination.k8s.io/v1), the protocol of client-go's leaderelection:
// a candidate takes the Lease when it is free or its holder has not renewed it for leaseDuration
// (measured on our own clock since we last saw the record change, so clock skew between candidates
// does not matter), the leader renews every retryPeriod and steps down if it cannot renew within
// renewDeadline. Writes use the Lease's resourceVersion, so two candidates never both win.
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { apiErrorCode, type KubeLogger } from './client.js';

export interface LeaderElectionOptions {
  api: CoordinationV1Api;
  namespace: string;
  name: string;
  /** This candidate's identity (e.g. hostname + pid). */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Called when this candidate becomes leader; the signal aborts when leadership ends. */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  onStoppedLeading: () => void;
  /** Called whenever the observed leader changes (including to ourselves). */
  onNewLeader?: (identity: string) => void;
  /** Give the lease up on stop() so another candidate takes over at once. Default true. */
  releaseOnStop?: boolean;
  logger?: KubeLogger;
}

interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: unknown;
  renewTime?: unknown;
  leaseTransitions: number;
}

function recordOf(lease: V1Lease): LeaseRecord {
  const s = lease.spec ?? {};
  return { holderIdentity: s.holderIdentity ?? '', leaseDurationSeconds: s.leaseDurationSeconds ?? 0, acquireTime: s.acquireTime, renewTime: s.renewTime, leaseTransitions: s.leaseTransitions ?? 0 };
}

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private running = false;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private leadAbort: AbortController | undefined;
  /** Raw record last seen and when (our clock): expiry is judged from this, not the holder's timestamps. */
  private observedRecord = '';
  private observedAt = 0;
  private observedLeader = '';
  private lastRenewOk = 0;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly opts: LeaderElectionOptions) {
    this.leaseDurationMs = opts.leaseDurationMs ?? 15000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw new Error('leaseDurationMs must be greater than renewDeadlineMs');
    if (!(this.renewDeadlineMs > this.retryPeriodMs)) throw new Error('renewDeadlineMs must be greater than retryPeriodMs');
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The holder we last observed ('' if none). */
  get leader(): string {
    return this.observedLeader;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops campaigning; a leader steps down (and releases the lease unless releaseOnStop is false). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    await this.loop;
    if (this.leading) {
      if (this.opts.releaseOnStop ?? true) await this.release();
      this.stepDown();
    }
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.loop = this.tick().finally(() => {
        if (this.running) this.schedule(this.leading ? this.retryPeriodMs : this.jitter(this.retryPeriodMs));
      });
    }, delayMs);
  }

  private jitter(ms: number): number {
    return ms + Math.floor(Math.random() * ms * 0.2);
  }

  private async tick(): Promise<void> {
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (err) {
      this.opts.logger?.warn(`leader election ${this.opts.namespace}/${this.opts.name}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { code: apiErrorCode(err) });
    }
    if (!this.running) return;
    const now = Date.now();
    if (ok) {
      this.lastRenewOk = now;
      if (!this.leading) {
        this.leading = true;
        this.leadAbort = new AbortController();
        this.opts.logger?.info(`leader election ${this.opts.namespace}/${this.opts.name}: ${this.opts.identity} is now the leader`);
        const signal = this.leadAbort.signal;
        Promise.resolve()
          .then(() => this.opts.onStartedLeading(signal))
          .catch((err: unknown) => this.opts.logger?.warn(`onStartedLeading failed: ${String(err)}`));
      }
    } else if (this.leading && now - this.lastRenewOk >= this.renewDeadlineMs) {
      this.opts.logger?.warn(`leader election ${this.opts.namespace}/${this.opts.name}: could not renew within ${this.renewDeadlineMs} ms, stepping down`);
      this.stepDown();
    }
  }

  private stepDown(): void {
    if (!this.leading) return;
    this.leading = false;
    this.leadAbort?.abort();
    this.leadAbort = undefined;
    try {
      this.opts.onStoppedLeading();
    } catch (err) {
      this.opts.logger?.warn(`onStoppedLeading failed: ${String(err)}`);
    }
  }

  private observe(lease: V1Lease): LeaseRecord {
    const rec = recordOf(lease);
    const raw = JSON.stringify({ h: rec.holderIdentity, d: rec.leaseDurationSeconds, a: String(rec.acquireTime ?? ''), r: String(rec.renewTime ?? ''), t: rec.leaseTransitions });
    if (raw !== this.observedRecord) {
      this.observedRecord = raw;
      this.observedAt = Date.now();
    }
    if (rec.holderIdentity !== this.observedLeader) {
      this.observedLeader = rec.holderIdentity;
      if (rec.holderIdentity) this.opts.onNewLeader?.(rec.holderIdentity);
    }
    return rec;
  }

  private spec(prev: LeaseRecord | undefined): NonNullable<V1Lease['spec']> {
    const now = new V1MicroTime();
    const same = prev?.holderIdentity === this.opts.identity;
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.leaseDurationMs / 1000)),
      acquireTime: same && prev?.acquireTime ? new V1MicroTime(prev.acquireTime instanceof Date ? prev.acquireTime.getTime() : String(prev.acquireTime)) : now,
      renewTime: now,
      leaseTransitions: prev ? (same ? prev.leaseTransitions : prev.leaseTransitions + 1) : 0,
    };
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, name, identity } = this.opts;
    let lease: V1Lease;
    try {
      lease = await api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (apiErrorCode(err) !== 404) throw err;
      try {
        const created = await api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: this.spec(undefined) } });
        this.observe(created);
        return true;
      } catch (e) {
        if (apiErrorCode(e) === 409) return false;
        throw e;
      }
    }
    const rec = this.observe(lease);
    const durationMs = this.leaseDurationMs;
    const heldByOther = rec.holderIdentity !== '' && rec.holderIdentity !== identity;
    if (heldByOther && Date.now() - this.observedAt < durationMs) return false;
    try {
      const updated = await api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: this.spec(rec) } });
      this.observe(updated);
      return true;
    } catch (err) {
      if (apiErrorCode(err) === 409) return false;
      throw err;
    }
  }

  /** Gives the lease up: holder cleared, so the next candidate need not wait for expiry. */
  private async release(): Promise<void> {
    const { api, namespace, name, identity } = this.opts;
    try {
      const lease = await api.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== identity) return;
      await api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime() } } });
    } catch (err) {
      this.opts.logger?.warn(`leader election ${namespace}/${name}: release failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
}
