import assert from 'node:assert/strict';
import { canonicalJson, jsonEqual } from '../../../kube-double/resources.js';

// jsonEqual replaced comparing canonicalJson strings on every update: it must agree with it.
describe('jsonEqual', () => {
  const cases: Array<[unknown, unknown]> = [
    [{ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }],
    [{ a: 1 }, { a: 1, b: undefined }],
    [{ a: [1, undefined] }, { a: [1, null] }],
    [{ a: [1, 2] }, { a: [2, 1] }],
    [{ a: 1 }, { a: '1' }],
    [{ a: null }, {}],
    [{ a: {} }, { a: [] }],
    [{ a: { b: 1 } }, { a: { b: 1, c: 2 } }],
    [{ a: { b: 1, c: 2 } }, { a: { b: 1 } }],
    [[], []],
    ['x', 'x'],
    [0, -0],
    [true, 1],
    [{ n: NaN }, { n: null }],
  ];
  for (const [a, b] of cases) {
    it(`${canonicalJson(a)} vs ${canonicalJson(b)}`, () => {
      const want = canonicalJson(a) === canonicalJson(b);
      assert.equal(jsonEqual(a, b), want);
      assert.equal(jsonEqual(b, a), want);
    });
  }
  it('ignores the skipped top-level keys only', () => {
    const skip = new Set(['metadata']);
    assert.equal(jsonEqual({ metadata: { rv: '1' }, spec: 1 }, { metadata: { rv: '2' }, spec: 1 }, skip), true);
    assert.equal(jsonEqual({ metadata: { rv: '1' }, spec: 1 }, { metadata: { rv: '1' }, spec: 2 }, skip), false);
    assert.equal(jsonEqual({ spec: { metadata: 1 } }, { spec: { metadata: 2 } }, skip), false);
  });
});
