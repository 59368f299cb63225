import assert from 'node:assert/strict';
import { op, ref } from '../../../lib/ovsdb/index.js';
import { matchesCondition } from '../../../lib/ovsdb/ops.js';
import { NB_MODEL } from '../../../lib/ovsdb/models/nb.js';

const nb = op(NB_MODEL);
const U = '8e4bd6f3-0bd5-4a35-8a16-2b0e9a3f0c11';

describe('ovsdb ops and conditions', () => {
  it('builds wire operations from friendly values', () => {
    assert.deepEqual(nb.insert('Logical_Switch', { name: 's', ports: [ref('p')] }, 'sw').wire, {
      op: 'insert',
      table: 'Logical_Switch',
      row: { name: 's', ports: ['set', [['named-uuid', 'p']]] },
      'uuid-name': 'sw',
    });
    assert.deepEqual(nb.update('Logical_Switch_Port', [['name', '==', 'p']], { up: true }).wire, { op: 'update', table: 'Logical_Switch_Port', where: [['name', '==', 'p']], row: { up: true } });
    assert.deepEqual(nb.select('Logical_Switch', [['_uuid', '==', U]], ['name']).wire, { op: 'select', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', U]]], columns: ['_uuid', 'name'] });
    assert.deepEqual(nb.commit(true).wire, { op: 'commit', durable: true });
    assert.deepEqual(nb.comment('hi').wire, { op: 'comment', comment: 'hi' });
    assert.deepEqual(nb.assert('lk').wire, { op: 'assert', lock: 'lk' });
    assert.deepEqual(nb.abort().wire, { op: 'abort' });
    assert.deepEqual(nb.wait('Logical_Switch', [['name', '==', 's']], ['name'], '==', [{ name: 's' }], 100).wire, {
      op: 'wait',
      table: 'Logical_Switch',
      where: [['name', '==', 's']],
      columns: ['name'],
      until: '==',
      rows: [{ name: 's' }],
      timeout: 100,
    });
  });

  it('converts mutations by column type, including map key deletion', () => {
    const w = nb.mutate('Logical_Switch_Port', [['name', '==', 'p']], [
      ['external_ids', 'insert', { a: 'b' }],
      ['external_ids', 'delete', ['a', 'c']],
      ['options', 'delete', { k: 'v' }],
      ['addresses', 'insert', 'x'],
      ['port_security', 'delete', ['y']],
      ['tag_request', '+=', 1],
    ]).wire;
    assert.deepEqual(w.mutations, [
      ['external_ids', 'insert', ['map', [['a', 'b']]]],
      ['external_ids', 'delete', ['set', ['a', 'c']]],
      ['options', 'delete', ['map', [['k', 'v']]]],
      ['addresses', 'insert', 'x'],
      ['port_security', 'delete', ['set', ['y']]],
      ['tag_request', '+=', 1],
    ]);
  });

  it('rejects bad conditions and mutations before sending', () => {
    assert.throws(() => nb.select('Logical_Switch', [['name', '<', 's']]), /Logical_Switch\.name: < needs an integer or real column/);
    assert.throws(() => nb.select('Logical_Switch', [['name', '~=' as '==', 's']]), /unknown condition function "~="/);
    assert.throws(() => nb.mutate('Logical_Switch', [], [['name', 'insert', 'x']]), /Logical_Switch\.name: insert needs a set or map column/);
    assert.throws(() => nb.mutate('Logical_Switch_Port', [], [['name', '+=', 1 as unknown as string]]), /needs an integer or real column/);
    assert.throws(() => nb.select('Logical_Switch', [['nope' as 'name', '==', 'x']]), /no column "nope"/);
  });

  it('evaluates conditions on friendly rows', () => {
    const row = { _uuid: U, name: 'p', addresses: ['a', 'b'], external_ids: { k: 'v', x: 'y' }, tag_request: 5 };
    const m = (c: unknown[]): boolean => matchesCondition(NB_MODEL, 'Logical_Switch_Port', row, c);
    assert.equal(m(['name', '==', 'p']), true);
    assert.equal(m(['name', '!=', 'p']), false);
    assert.equal(m(['addresses', 'includes', 'a']), true);
    assert.equal(m(['addresses', 'includes', ['a', 'c']]), false);
    assert.equal(m(['addresses', 'excludes', ['c']]), true);
    assert.equal(m(['addresses', '==', ['b', 'a']]), true);
    assert.equal(m(['external_ids', 'includes', { k: 'v' }]), true);
    assert.equal(m(['external_ids', 'includes', { k: 'w' }]), false);
    assert.equal(m(['external_ids', 'excludes', { k: 'w' }]), true);
    assert.equal(m(['tag_request', '>', 4]), true);
    assert.equal(m(['tag_request', '<=', 4]), false);
    assert.equal(m(['_uuid', '==', U]), true);
  });
});
