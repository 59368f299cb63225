// Per-key mutual exclusion for CNI requests: one request at a time per attachment (container id + ifname) and per
// pod. Two ADDs of the same attachment that interleave delete each other's veth, and vswitchd can stay bound to
// the deleted device while both report success.
// A request takes all its keys together, in sorted order, so two requests sharing keys cannot deadlock.

export class LockTimeout extends Error {
  constructor(readonly keys: string[], readonly timeoutMs: number) {
    super(`${keys.join(', ')}: still busy after ${timeoutMs} ms`);
    this.name = 'LockTimeout';
  }
}

interface Waiter {
  grant(): void;
}

export class KeyedMutex {
  /** Per held key: the queue of waiters (the holder is not in it). */
  private readonly held = new Map<string, Waiter[]>();

  /** Keys held right now (for tests and diagnostics). */
  get size(): number {
    return this.held.size;
  }

  /** Runs fn while holding every key; waits at most timeoutMs for the keys (LockTimeout, fn not run). */
  async run<T>(keys: string[], timeoutMs: number, fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(keys, timeoutMs);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Acquires every key (deduplicated, sorted); resolves to the function that releases them all. */
  async acquire(keys: string[], timeoutMs: number): Promise<() => void> {
    const sorted = [...new Set(keys)].sort();
    const deadline = Date.now() + timeoutMs;
    const got: string[] = [];
    try {
      for (const k of sorted) {
        await this.acquireOne(k, deadline - Date.now());
        got.push(k);
      }
    } catch (err) {
      for (const k of got.reverse()) this.releaseOne(k);
      if (err instanceof LockTimeout) throw new LockTimeout(sorted, timeoutMs);
      throw err;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const k of got.reverse()) this.releaseOne(k);
    };
  }

  private acquireOne(key: string, timeoutMs: number): Promise<void> {
    const queue = this.held.get(key);
    if (!queue) {
      this.held.set(key, []);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        const i = queue.indexOf(w);
        if (i >= 0) queue.splice(i, 1);
        reject(new LockTimeout([key], timeoutMs));
      }, Math.max(0, timeoutMs));
      queue.push(w);
    });
  }

  /** Hands the key to the next waiter, or frees it. */
  private releaseOne(key: string): void {
    const queue = this.held.get(key);
    if (!queue) return;
    const next = queue.shift();
    if (next) next.grant();
    else this.held.delete(key);
  }
}
