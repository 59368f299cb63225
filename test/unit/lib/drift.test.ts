import assert from 'node:assert/strict';
import { op as opFor } from '../../../lib/ovsdb/ops.js';
import { NB_MODEL } from '../../../lib/ovsdb/models/nb.js';
import { OwnWrites, type RowSource } from '../../../lib/drift/own-writes.js';
import { describeChange, rowIdentity } from '../../../lib/drift/repair.js';

const b = opFor(NB_MODEL);
const ownerOf = (ids: Record<string, string> | undefined) => (ids?.owner === 'me' ? `pod ${ids.object}` : undefined);
const rows: Record<string, Record<string, { name?: string; external_ids: Record<string, string> }>> = {
  Logical_Switch_Port: { 'aaaaaaaa-0000-0000-0000-000000000001': { name: 'ns_a', external_ids: { owner: 'me', object: 'ns/a' } } },
  Logical_Switch: { 'bbbbbbbb-0000-0000-0000-000000000001': { name: 'n1', external_ids: {} } },
  Port_Group: { 'cccccccc-0000-0000-0000-000000000001': { name: 'pg', external_ids: { owner: 'me', object: 'ns/p' } } },
};
const source: RowSource = {
  monitoredTables: () => Object.keys(rows),
  get: ((t: string, u: string) => rows[t]?.[u]) as never,
  lookup: ((t: string, _c: string, v: string) => Object.values(rows[t] ?? {}).find((r) => r.name === v)) as never,
};

describe('drift repair (lib/drift)', () => {
  it('attributes inserts, updates, mutations by name and deleted references to their owners, and nothing else', () => {
    const w = new OwnWrites(ownerOf, source);
    assert.deepEqual([...w.ownersOf([b.insert('Logical_Switch_Port', { name: 'ns_b', external_ids: { owner: 'me', object: 'ns/b' } })])], ['pod ns/b']);
    assert.deepEqual([...w.ownersOf([b.update('Logical_Switch_Port', [['_uuid', '==', 'aaaaaaaa-0000-0000-0000-000000000001']], { addresses: [] })])], ['pod ns/a']);
    assert.deepEqual([...w.ownersOf([b.mutate('Port_Group', [['name', '==', 'pg']], [['ports', 'insert', []]])])], ['pod ns/p']);
    // Dropping a port from a switch that is not ours deletes a row that is.
    assert.deepEqual([...w.ownersOf([b.mutate('Logical_Switch', [['name', '==', 'n1']], [['ports', 'delete', ['aaaaaaaa-0000-0000-0000-000000000001']]])])], ['pod ns/a']);
    assert.deepEqual([...w.ownersOf([b.insert('Logical_Switch_Port', { name: 'x', external_ids: { owner: 'other' } })])], []);
  });

  it('marks an owner in flight only while its transaction waits for the reply, and counts commits', async () => {
    let release!: () => void;
    const client = { transact: (_ops: unknown[]) => new Promise<unknown>((r) => (release = () => r([]))) };
    const w = new OwnWrites(ownerOf, source);
    const wrapped = w.wrap(client);
    const p = wrapped.transact([b.update('Port_Group', [['name', '==', 'pg']], { ports: [] })]);
    assert.equal(w.inFlight('pod ns/p'), true);
    assert.equal(w.inFlight('pod ns/a'), false);
    release();
    await p;
    assert.equal(w.inFlight('pod ns/p'), false);
    assert.equal(w.commits('pod ns/p'), 1);
  });

  it('names a changed row by what survives its re-creation and says which columns changed', () => {
    assert.equal(rowIdentity('ACL', { _uuid: 'u1', match: 'ip', direction: 'to-lport', priority: 1000 }), 'ACL ip to-lport 1000');
    assert.equal(rowIdentity('NAT', { _uuid: 'u1', logical_ip: '10.0.0.0/16' }), 'NAT 10.0.0.0/16');
    assert.equal(describeChange({ table: 'Logical_Switch_Port', kind: 'delete', row: { _uuid: 'u', name: 'ns_a' } }), 'Logical_Switch_Port ns_a: deleted');
    assert.equal(
      describeChange({ table: 'Logical_Switch_Port', kind: 'update', row: { _uuid: 'u', name: 'ns_a', addresses: ['x'], type: '' }, old: { _uuid: 'u', name: 'ns_a', addresses: ['y'], type: '' } }),
      'Logical_Switch_Port ns_a: addresses ["y"] -> ["x"]',
    );
  });
});
