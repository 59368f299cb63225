import assert from 'node:assert/strict';
import { valueToWire, valueFromWire, rowToWire, rowFromWire, ref, defaultValue } from '../../../lib/ovsdb/notation.js';
import type { ColumnType } from '../../../lib/ovsdb/schema.js';
import { NB_MODEL } from '../../../lib/ovsdb/models/nb.js';
import { VSWITCH_MODEL } from '../../../lib/ovsdb/models/vswitch.js';

const U = '8e4bd6f3-0bd5-4a35-8a16-2b0e9a3f0c11';
const scalarStr: ColumnType = { key: { type: 'string' }, min: 1, max: 1 };
const optInt: ColumnType = { key: { type: 'integer' }, min: 0, max: 1 };
const setUuid: ColumnType = { key: { type: 'uuid' }, min: 0, max: 'unlimited' };
const mapSS: ColumnType = { key: { type: 'string' }, value: { type: 'string' }, min: 0, max: 'unlimited' };
const mapIU: ColumnType = { key: { type: 'integer' }, value: { type: 'uuid' }, min: 0, max: 'unlimited' };

describe('ovsdb notation', () => {
  it('converts scalars, optionals, sets and maps to the wire', () => {
    assert.equal(valueToWire(scalarStr, 'x', 'T.c'), 'x');
    assert.deepEqual(valueToWire(optInt, undefined, 'T.c'), ['set', []]);
    assert.equal(valueToWire(optInt, 5, 'T.c'), 5);
    assert.deepEqual(valueToWire(setUuid, [U, ref('p1')], 'T.c'), ['set', [['uuid', U], ['named-uuid', 'p1']]]);
    assert.deepEqual(valueToWire(mapSS, { a: 'b' }, 'T.c'), ['map', [['a', 'b']]]);
    assert.deepEqual(valueToWire(mapIU, { '7': U }, 'T.c'), ['map', [[7, ['uuid', U]]]]);
  });

  it('converts wire values back', () => {
    assert.equal(valueFromWire(scalarStr, 'x'), 'x');
    assert.equal(valueFromWire(optInt, ['set', []]), undefined);
    assert.equal(valueFromWire(optInt, 3), 3);
    assert.deepEqual(valueFromWire(setUuid, ['uuid', U]), [U]);
    assert.deepEqual(valueFromWire(setUuid, ['set', [['uuid', U]]]), [U]);
    assert.deepEqual(valueFromWire(mapSS, ['map', [['a', 'b'], ['c', 'd']]]), { a: 'b', c: 'd' });
  });

  it('round-trips rows of the generated models', () => {
    const row = { name: 'default_web-1', addresses: ['0a:58:0a:f4:01:05 10.244.1.5'], tag_request: 7, options: { 'requested-chassis': 'node1' }, enabled: true };
    const wire = rowToWire(NB_MODEL, 'Logical_Switch_Port', row);
    assert.deepEqual(wire, { name: 'default_web-1', addresses: ['set', ['0a:58:0a:f4:01:05 10.244.1.5']], tag_request: 7, options: ['map', [['requested-chassis', 'node1']]], enabled: true });
    assert.deepEqual(rowFromWire(NB_MODEL, 'Logical_Switch_Port', wire), row);
  });

  it('names the column and the problem on bad input', () => {
    assert.throws(() => rowToWire(NB_MODEL, 'Logical_Switch_Port', { tag_request: 'seven' }), /Logical_Switch_Port\.tag_request: expected integer, got "seven"/);
    assert.throws(() => rowToWire(NB_MODEL, 'Logical_Switch', { ports: ['not-a-uuid'] }), /Logical_Switch\.ports: "not-a-uuid" is not a uuid/);
    assert.throws(() => rowToWire(NB_MODEL, 'Logical_Switch', { bogus: 1 }), /table Logical_Switch has no column "bogus"/);
    assert.throws(() => rowToWire(NB_MODEL, 'Nope', { name: 'x' }), /no table "Nope"/);
    assert.throws(() => rowToWire(NB_MODEL, 'Logical_Switch_Port', { name: ref('x') }), /ref\("x"\) used in a string column/);
    assert.throws(() => ref('bad name'), /named-uuid "bad name"/);
    assert.throws(() => valueToWire(optInt, [1, 2], 'T.c'), /at most one value/);
    assert.throws(() => rowToWire(VSWITCH_MODEL, 'Bridge', { external_ids: ['a'] }), /Bridge\.external_ids: expected a map/);
  });

  it('knows the defaults the server omits from update2', () => {
    assert.equal(defaultValue(scalarStr), '');
    assert.equal(defaultValue({ key: { type: 'integer' }, min: 1, max: 1 }), 0);
    assert.equal(defaultValue({ key: { type: 'boolean' }, min: 1, max: 1 }), false);
    assert.equal(defaultValue(optInt), undefined);
    assert.deepEqual(defaultValue(setUuid), []);
    assert.deepEqual(defaultValue(mapSS), {});
  });
});
