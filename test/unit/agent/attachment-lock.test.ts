import assert from 'node:assert/strict';
import { KeyedMutex, LockTimeout } from '../../../agent/attachment-lock.js';

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs fn under the keys and records how many runs overlapped on each key. */
function tracker(m: KeyedMutex) {
  const active = new Map<string, number>();
  const maxActive = new Map<string, number>();
  const order: string[] = [];
  const run = (label: string, keys: string[], ms = 10, timeoutMs = 5000) =>
    m.run(keys, timeoutMs, async () => {
      for (const k of keys) {
        active.set(k, (active.get(k) ?? 0) + 1);
        maxActive.set(k, Math.max(maxActive.get(k) ?? 0, active.get(k)!));
      }
      order.push(label);
      await tick(ms);
      for (const k of keys) active.set(k, active.get(k)! - 1);
      return label;
    });
  return { run, maxActive, order };
}

describe('agent KeyedMutex (attachment and pod serialisation)', () => {
  it('runs requests on the same key one at a time, first come first served', async () => {
    const m = new KeyedMutex();
    const t = tracker(m);
    const got = await Promise.all(['a', 'b', 'c', 'd'].map((l) => t.run(l, ['att:x/eth0', 'pod:default/p'])));
    assert.deepEqual(got, ['a', 'b', 'c', 'd']);
    assert.deepEqual(t.order, ['a', 'b', 'c', 'd']);
    assert.equal(t.maxActive.get('att:x/eth0'), 1);
    assert.equal(t.maxActive.get('pod:default/p'), 1);
    assert.equal(m.size, 0, 'all keys released');
  });

  it('lets requests on different keys run at the same time', async () => {
    const m = new KeyedMutex();
    let overlapping = 0;
    let max = 0;
    const run = (k: string) => m.run([k], 1000, async () => {
      max = Math.max(max, ++overlapping);
      await tick(20);
      overlapping--;
    });
    await Promise.all([run('att:1/eth0'), run('att:2/eth0'), run('att:3/eth0')]);
    assert.equal(max, 3);
  });

  it('a pod key shared by two attachments serialises them (a new sandbox of the same pod)', async () => {
    const m = new KeyedMutex();
    const t = tracker(m);
    await Promise.all([t.run('old', ['att:old/eth0', 'pod:default/p']), t.run('new', ['att:new/eth0', 'pod:default/p'])]);
    assert.equal(t.maxActive.get('pod:default/p'), 1);
  });

  it('does not deadlock when requests name overlapping keys in opposite order', async () => {
    const m = new KeyedMutex();
    const t = tracker(m);
    const runs = [];
    for (let i = 0; i < 10; i++) runs.push(t.run(`r${i}`, i % 2 ? ['k1', 'k2', 'k3'] : ['k3', 'k2', 'k1'], 2, 2000));
    assert.equal((await Promise.all(runs)).length, 10);
    assert.equal(t.maxActive.get('k2'), 1);
  });

  it('gives up after the timeout without running fn, and the key stays usable', async () => {
    const m = new KeyedMutex();
    let release!: () => void;
    const holding = m.run(['k'], 100, () => new Promise<void>((r) => (release = r)));
    await tick();
    let ran = false;
    await assert.rejects(m.run(['j', 'k'], 30, async () => { ran = true; }), (e: unknown) => e instanceof LockTimeout && /j, k: still busy after 30 ms/.test(e.message));
    assert.equal(ran, false);
    assert.equal(m.size, 1, 'j was given back when k timed out; only the holder\'s k remains');
    release();
    await holding;
    assert.equal(await m.run(['k'], 10, async () => 'free again'), 'free again');
    assert.equal(m.size, 0);
  });

  it('releases the keys when fn throws', async () => {
    const m = new KeyedMutex();
    await assert.rejects(m.run(['k'], 10, async () => { throw new Error('boom'); }), /boom/);
    assert.equal(m.size, 0);
    assert.equal(await m.run(['k'], 10, async () => 1), 1);
  });
});
