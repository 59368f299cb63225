// A keyed work queue, as Kubernetes controllers use: a key is processed by one worker at a time
// (per-object ordering), different keys run concurrently, repeated adds while a key waits coalesce,
// an add while it runs re-runs it afterwards, and failures retry with capped exponential backoff.
// The watcher's controllers, its drift repair, the interconnect controller and `tessera-gateway run`
// all run on it; rate limiters for adds that must not come too fast live in lib/rate-limit.ts.
export interface WorkQueueOptions {
  name: string;
  workers: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  onError?: (key: string, err: unknown, attempt: number) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  /** addAndWait callers whose run has not started yet, per key. */
  private readonly waiting = new Map<string, Array<(ok: boolean) => void>>();
  private active = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  processed = 0;

  constructor(private readonly handler: (key: string) => Promise<void>, private readonly opts: WorkQueueOptions) {}

  get name(): string {
    return this.opts.name;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    const t = this.timers.get(key);
    if (t) {
      clearTimeout(t.timer);
      this.timers.delete(key);
    }
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Adds the key after a delay (retries, rate limits); an earlier add() or addAfter() supersedes a later one. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const t = this.timers.get(key);
    if (t && t.at <= at) return;
    if (t) clearTimeout(t.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { timer, at });
  }

  /** Adds the key now; resolves after a run that starts after this call ends: true if it succeeded. */
  addAndWait(key: string): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    const p = new Promise<boolean>((r) => {
      const w = this.waiting.get(key);
      if (w) w.push(r);
      else this.waiting.set(key, [r]);
    });
    this.add(key);
    return p;
  }

  /** Forgets the retry count (after success or when the object went away). */
  forget(key: string): void {
    this.attempts.delete(key);
  }

  get length(): number {
    return this.queue.length + this.running.size + this.timers.size;
  }

  /** Resolves when nothing is queued or running (pending retries do not count). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.active === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  shutdown(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    for (const w of this.waiting.values()) for (const r of w) r(false);
    this.waiting.clear();
  }

  private pump(): void {
    while (this.active < this.opts.workers && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.running.add(key);
      this.active++;
      void this.run(key);
    }
    if (this.active === 0 && this.queue.length === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }

  private async run(key: string): Promise<void> {
    const waiters = this.waiting.get(key) ?? [];
    this.waiting.delete(key);
    let ok = false;
    try {
      await this.handler(key);
      this.attempts.delete(key);
      ok = true;
    } catch (err) {
      const n = (this.attempts.get(key) ?? 0) + 1;
      this.attempts.set(key, n);
      this.opts.onError?.(key, err, n);
      const base = this.opts.baseDelayMs ?? 50;
      const max = this.opts.maxDelayMs ?? 30_000;
      if (!this.dirty.has(key)) this.addAfter(key, Math.min(max, base * 2 ** Math.min(n - 1, 20)));
    } finally {
      this.processed++;
      this.running.delete(key);
      this.active--;
      for (const r of waiters) r(ok);
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }
}
