// Rate limiters for work-queue adds that react to outside changes (drift repair): a token bucket bounds
// the total rate, a per-key backoff stops one key that keeps coming back from turning into a hot loop.

/** A token bucket: `take()` reserves the next token and says how long to wait for it. */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();

  constructor(private readonly perSecond: number, private readonly burst: number) {
    this.tokens = burst;
  }

  /** Milliseconds until the reserved token is available (0 if one is there now). */
  take(): number {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.perSecond) * 1000);
  }
}

export interface KeyBackoffOptions {
  /** Delay after the second hit within the quiet period; doubles with each further one. */
  baseMs: number;
  maxMs: number;
  /** A key quiet for this long (plus its current delay) starts over. */
  quietMs: number;
}

/**
 * Per-key exponential backoff over hits: the first hit of a key goes at once, each further hit before
 * the key has been quiet for `quietMs` waits twice as long as the previous one, up to `maxMs`.
 */
export class KeyBackoff {
  private readonly keys = new Map<string, { streak: number; last: number }>();

  constructor(private readonly opts: KeyBackoffOptions) {}

  /** Records a hit; returns how many hits in a row the key has had and the delay this one gets. */
  hit(key: string, now = Date.now()): { streak: number; delayMs: number } {
    const prev = this.keys.get(key);
    const quiet = prev ? now - prev.last > this.opts.quietMs + this.delayFor(prev.streak) : true;
    const streak = quiet ? 1 : prev!.streak + 1;
    this.keys.set(key, { streak, last: now });
    if (this.keys.size > 10_000) this.prune(now);
    return { streak, delayMs: this.delayFor(streak) };
  }

  /** The streak a key has now, without recording a hit. */
  streak(key: string, now = Date.now()): number {
    const prev = this.keys.get(key);
    return prev && now - prev.last <= this.opts.quietMs + this.delayFor(prev.streak) ? prev.streak : 0;
  }

  /** The delay the key's next hit would get. */
  nextDelay(key: string, now = Date.now()): number {
    return this.delayFor(this.streak(key, now) + 1);
  }

  forget(key: string): void {
    this.keys.delete(key);
  }

  private delayFor(streak: number): number {
    return streak <= 1 ? 0 : Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** Math.min(streak - 2, 30));
  }

  private prune(now: number): void {
    for (const [k, v] of this.keys) if (now - v.last > this.opts.quietMs + this.delayFor(v.streak)) this.keys.delete(k);
  }
}
