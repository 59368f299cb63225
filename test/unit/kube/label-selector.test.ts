import assert from 'node:assert/strict';
import { LabelSelectorError, matchRequirements, selectorRequirements, type LabelRequirement } from '../../../lib/kube/label-selector.js';

const req = (key: string, operator: LabelRequirement['operator'], ...values: string[]): LabelRequirement => ({ key, operator, values });

describe('lib/kube label requirements', () => {
  const l = { app: 'web', tier: 'front', n: '10', v: 'v1' };

  it('In and NotIn: an absent key is not In anything and is NotIn everything', () => {
    assert.equal(matchRequirements([req('tier', 'In', 'back', 'front')], l), true);
    assert.equal(matchRequirements([req('tier', 'In', 'back')], l), false);
    assert.equal(matchRequirements([req('missing', 'In', 'x')], l), false);
    assert.equal(matchRequirements([req('tier', 'NotIn', 'front')], l), false);
    assert.equal(matchRequirements([req('missing', 'NotIn', 'x')], l), true);
  });

  it('Exists and DoesNotExist look at own keys only', () => {
    assert.equal(matchRequirements([req('app', 'Exists')], l), true);
    assert.equal(matchRequirements([req('app', 'DoesNotExist')], l), false);
    assert.equal(matchRequirements([req('constructor', 'Exists')], l), false);
    assert.equal(matchRequirements([req('toString', 'In', 'x')], l), false);
    assert.equal(matchRequirements([req('other', 'DoesNotExist')], l), true);
  });

  it('Gt and Lt compare integers; a missing or non-integer value matches neither', () => {
    assert.equal(matchRequirements([req('n', 'Gt', '5'), req('n', 'Lt', '11')], l), true);
    assert.equal(matchRequirements([req('n', 'Gt', '10')], l), false);
    assert.equal(matchRequirements([req('n', 'Lt', '-1')], l), false);
    assert.equal(matchRequirements([req('v', 'Gt', '0')], l), false);
    assert.equal(matchRequirements([req('v', 'Lt', '0')], l), false);
    assert.equal(matchRequirements([req('missing', 'Lt', '0')], l), false);
  });

  it('ANDs requirements; none, or no labels at all, select as an empty label set', () => {
    assert.equal(matchRequirements([req('app', 'In', 'web'), req('tier', 'In', 'back')], l), false);
    assert.equal(matchRequirements([], l), true);
    assert.equal(matchRequirements([], undefined), true);
    assert.equal(matchRequirements([req('app', 'DoesNotExist')], undefined), true);
    assert.equal(matchRequirements([req('app', 'Exists')], undefined), false);
  });
});

describe('lib/kube selectorRequirements', () => {
  it('turns matchLabels into In, then appends matchExpressions', () => {
    const got = [...selectorRequirements({ matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'Exists' }, { key: 'c', operator: 'NotIn', values: ['x'] }] })];
    assert.deepEqual(got, [req('a', 'In', '1'), req('b', 'Exists'), req('c', 'NotIn', 'x')]);
    assert.deepEqual([...selectorRequirements({})], []);
  });

  it('rejects an unknown operator (Gt is not one of a LabelSelector), but only when matching reaches it', () => {
    const sel = { matchLabels: { a: '1' }, matchExpressions: [{ key: 'n', operator: 'Gt', values: ['1'] }] };
    assert.equal(matchRequirements(selectorRequirements(sel), { a: '2' }), false);
    assert.throws(
      () => matchRequirements(selectorRequirements(sel), { a: '1' }),
      (e: unknown) => e instanceof LabelSelectorError && e.message === 'unknown label selector operator "Gt" on key "n"',
    );
  });
});
