import assert from 'node:assert/strict';
import { IndexAllocator } from '../../../watcher/ipam/index-allocator.js';

describe('IndexAllocator', () => {
  it('hands out indexes from the start of its range and is stable per owner', () => {
    const a = new IndexAllocator(3n, 6n);
    assert.equal(a.span, 3n);
    assert.equal(a.allocate('a'), 3n);
    assert.equal(a.allocate('b'), 4n);
    assert.equal(a.allocate('a'), 3n);
    assert.equal(a.indexOf('b'), 4n);
    assert.equal(a.holder(4n), 'b');
    assert.equal(a.allocated, 2);
  });

  it('goes round robin: a freed index is reused only after the rest of the range', () => {
    const a = new IndexAllocator(0n, 3n);
    a.allocate('a');
    a.allocate('b');
    a.release('a');
    assert.equal(a.allocate('c'), 2n);
    assert.equal(a.allocate('d'), 0n, 'wraps to the start');
  });

  it('reports exhaustion as undefined and allocates again once an index is freed', () => {
    const a = new IndexAllocator(1n, 3n);
    a.allocate('a');
    a.allocate('b');
    assert.equal(a.allocate('c'), undefined);
    assert.equal(a.indexOf('c'), undefined);
    a.release('a');
    assert.equal(a.allocate('c'), 1n);
    assert.equal(new IndexAllocator(5n, 5n).allocate('x'), undefined, 'an empty range is always exhausted');
  });

  it('reserves specific indexes, idempotently, and allocation skips them', () => {
    const a = new IndexAllocator(0n, 4n);
    assert.equal(a.reserve(0n, 'old'), undefined);
    assert.equal(a.reserve(0n, 'old'), undefined);
    assert.equal(a.reserve(1n, 'older'), undefined);
    assert.equal(a.allocate('new'), 2n);
    assert.deepEqual(a.entries(), [['old', 0n], ['older', 1n], ['new', 2n]]);
  });

  it('reports a taken index or an owner that holds another, and claims nothing', () => {
    const a = new IndexAllocator(0n, 4n);
    a.reserve(1n, 'a');
    assert.deepEqual(a.reserve(1n, 'b'), { kind: 'taken', holder: 'a' });
    assert.equal(a.indexOf('b'), undefined);
    assert.deepEqual(a.reserve(2n, 'a'), { kind: 'holds', index: 1n });
    assert.equal(a.holder(2n), undefined);
    assert.equal(a.allocated, 1);
  });

  it('release frees both directions and is a no-op for an unknown owner', () => {
    const a = new IndexAllocator(0n, 2n);
    a.allocate('a');
    a.release('nobody');
    a.release('a');
    assert.equal(a.holder(0n), undefined);
    assert.equal(a.indexOf('a'), undefined);
    assert.equal(a.allocated, 0);
  });

  it('refuses an index outside its range and an inverted range', () => {
    const a = new IndexAllocator(3n, 6n);
    assert.throws(() => a.reserve(2n, 'x'), RangeError);
    assert.throws(() => a.reserve(6n, 'x'), RangeError);
    assert.throws(() => new IndexAllocator(2n, 1n), RangeError);
  });
});
