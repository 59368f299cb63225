import assert from 'node:assert/strict';
import { ServerDbState, unusableReason } from '../../../lib/ovsdb/server-db.js';

const U = '11111111-1111-1111-1111-111111111111';

describe('ovsdb _Server state', () => {
  it('judges standalone, clustered leader, follower and disconnected members', () => {
    assert.equal(unusableReason({ model: 'standalone', leader: true, connected: true }, 'OVN_Northbound', true), undefined);
    assert.equal(unusableReason({ model: 'relay', leader: false, connected: true }, 'OVN_Northbound', true), undefined);
    assert.equal(unusableReason({ model: 'clustered', leader: true, connected: true }, 'OVN_Northbound', true), undefined);
    assert.match(unusableReason({ model: 'clustered', leader: false, connected: true }, 'OVN_Northbound', true) ?? '', /OVN_Northbound cluster member is not the leader/);
    assert.equal(unusableReason({ model: 'clustered', leader: false, connected: true }, 'OVN_Northbound', false), undefined);
    assert.match(unusableReason({ model: 'clustered', leader: false, connected: false }, 'OVN_Northbound', false) ?? '', /not connected to the cluster/);
  });

  it('keeps the whole row across modify updates and notices deletion', () => {
    const s = new ServerDbState();
    assert.equal(s.apply({ Database: { [U]: { initial: { name: 'OVN_Northbound', model: 'clustered', connected: true, leader: true } } } }), true);
    s.apply({ Database: { [U]: { modify: { leader: false } } } });
    assert.deepEqual(s.row, { name: 'OVN_Northbound', model: 'clustered', connected: true, leader: false });
    assert.equal(s.apply({ Database: { [U]: { delete: null } } }), false);
    assert.equal(s.row, undefined);
  });
});
