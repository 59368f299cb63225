// Bounded polling: the lab waits for conditions, never for fixed amounts of time.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Thrown by a check to stop waiting at once (the thing waited for can no longer happen, e.g. its daemon died). */
export class GiveUp extends Error {}

/** Polls `check` every `intervalMs` until it returns true; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 100): Promise<number> {
  const t0 = Date.now();
  let lastErr: unknown;
  for (;;) {
    try {
      if (await check()) return Date.now() - t0;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastErr = err;
    }
    if (Date.now() - t0 >= timeoutMs) {
      const why = lastErr instanceof Error ? ` (last error: ${lastErr.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * Like Promise.all, but waits for every job to finish before throwing the first error, so that teardown after a
 * failure never races a sibling job still creating netns or daemons.
 */
export async function allSettledOrThrow<T>(jobs: Array<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(jobs);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}
