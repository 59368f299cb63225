import assert from 'node:assert/strict';
import { KeyBackoff, TokenBucket } from '../../../lib/rate-limit.js';

describe('rate limiters (lib/rate-limit)', () => {
  it('a token bucket gives its burst at once, then spaces takes by its rate', () => {
    const b = new TokenBucket(10, 3);
    assert.deepEqual([b.take(), b.take(), b.take()], [0, 0, 0]);
    const d1 = b.take();
    const d2 = b.take();
    assert.ok(d1 > 80 && d1 <= 100, `4th take waits ~100 ms, got ${d1}`);
    assert.ok(d2 > 180 && d2 <= 200, `5th take waits ~200 ms, got ${d2}`);
  });

  it('per-key backoff: first hit free, then doubling, capped; a quiet key starts over; keys are independent', () => {
    const k = new KeyBackoff({ baseMs: 1000, maxMs: 4000, quietMs: 30_000 });
    const t = 1_000_000;
    assert.equal(k.nextDelay('a', t), 0);
    assert.deepEqual(k.hit('a', t), { streak: 1, delayMs: 0 });
    assert.equal(k.nextDelay('a', t + 10), 1000);
    assert.deepEqual(k.hit('a', t + 10), { streak: 2, delayMs: 1000 });
    assert.deepEqual(k.hit('a', t + 20), { streak: 3, delayMs: 2000 });
    assert.deepEqual(k.hit('a', t + 30), { streak: 4, delayMs: 4000 });
    assert.deepEqual(k.hit('a', t + 40), { streak: 5, delayMs: 4000 });
    assert.equal(k.nextDelay('b', t + 40), 0, 'another key is not slowed');
    assert.equal(k.streak('a', t + 40 + 34_001), 0, 'quiet for quietMs plus its delay: starts over');
    assert.deepEqual(k.hit('a', t + 40 + 34_001), { streak: 1, delayMs: 0 });
  });
});
