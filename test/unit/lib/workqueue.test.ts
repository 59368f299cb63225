import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue } from '../../../lib/workqueue.js';

describe('work queue (lib/workqueue)', () => {
  it('never runs one key twice at once, but runs different keys concurrently', async () => {
    const running = new Set<string>();
    let maxParallel = 0;
    let overlap = false;
    const q = new WorkQueue(async (k) => {
      if (running.has(k)) overlap = true;
      running.add(k);
      maxParallel = Math.max(maxParallel, running.size);
      await sleep(5);
      running.delete(k);
    }, { name: 't', workers: 4 });
    for (let i = 0; i < 20; i++) for (const k of ['a', 'b', 'c', 'd']) q.add(k);
    await q.idle();
    await sleep(10);
    await q.idle();
    assert.equal(overlap, false);
    assert.equal(maxParallel, 4);
  });
  it('coalesces adds while queued and re-runs a key added while running', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue(async (k) => {
      seen.push(k);
      if (seen.length === 1) await gate;
    }, { name: 't', workers: 1 });
    q.add('a');
    q.add('b');
    q.add('b');
    q.add('a'); // a is running: it must run again afterwards
    release();
    await q.idle();
    assert.deepEqual(seen, ['a', 'b', 'a']);
  });
  it('retries failures with backoff until the handler succeeds', async () => {
    let calls = 0;
    const errors: number[] = [];
    const q = new WorkQueue(async () => {
      calls++;
      if (calls < 3) throw new Error('boom');
    }, { name: 't', workers: 1, baseDelayMs: 5, onError: (_k, _e, n) => errors.push(n) });
    q.add('x');
    for (let i = 0; i < 100 && calls < 3; i++) await sleep(5);
    assert.equal(calls, 3);
    assert.deepEqual(errors, [1, 2]);
    q.shutdown();
  });
});

describe('work queue addAndWait', () => {
  it('resolves after a run that started after the call, with its outcome; re-runs a key added while it runs', async () => {
    const runs: string[] = [];
    let fail = false;
    let gate: (() => void) | undefined;
    const q = new WorkQueue(async (k) => {
      runs.push(k);
      if (gate) await new Promise<void>((r) => (gate = r));
      if (fail) throw new Error('boom');
    }, { name: 't', workers: 1, baseDelayMs: 10_000 });
    assert.equal(await q.addAndWait('a'), true);
    gate = () => undefined;
    q.add('a'); // running, held by the gate
    await sleep(5);
    fail = true;
    const p = q.addAndWait('a'); // must wait for the re-run, not the run in progress
    const g = gate;
    gate = undefined;
    g();
    assert.equal(await p, false, 'the re-run failed');
    assert.deepEqual(runs, ['a', 'a', 'a']);
    q.shutdown();
    assert.equal(await q.addAndWait('a'), false, 'a stopped queue answers false at once');
  });
});
