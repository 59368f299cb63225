// Table-65 patch flows as ovs-ofctl prints them, read by the agent's watchdog and the lab: the (datapath, ingress
// key) each enters with, and which of those name no patch port of that datapath in the Southbound database.
import assert from 'node:assert/strict';
import { parsePatchEntries, patchKeysInto, stalePatchEntries } from '../../../lib/ovn/patch-flows.js';

// Two flows as ovs-ofctl dump-flows printed them on a gateway chassis (abridged): router port -> ts (stale key 1),
// and ts -> router; plus a non-patch output flow.
const FLOWS = [
  ' cookie=0xcd3e80f7, table=65, n_packets=304, priority=100,reg15=0x4,metadata=0x2 actions=clone(ct_clear,load:0->NXM_NX_REG11[],load:0xe->NXM_NX_REG11[],load:0xd->NXM_NX_REG12[],load:0xff0002->OXM_OF_METADATA[],load:0x1->NXM_NX_REG14[],load:0->NXM_NX_REG10[],resubmit(,8))',
  ' cookie=0xa7cf1775, table=65, n_packets=4, priority=100,reg15=0x2,metadata=0xff0002 actions=clone(ct_clear,load:0x3->NXM_NX_REG11[],load:0x8->NXM_NX_REG12[],load:0x2->OXM_OF_METADATA[],load:0x4->NXM_NX_REG14[],resubmit(,8))',
  ' cookie=0x1, table=65, n_packets=9, priority=100,reg15=0x3,metadata=0x1 actions=output:5',
].join('\n');

describe('logical patch flows (table 65)', () => {
  it('reads the datapath and ingress key of every patch entry, once each', () => {
    assert.deepEqual(parsePatchEntries(FLOWS + '\n' + FLOWS), [{ dp: 0xff0002, key: 1 }, { dp: 2, key: 4 }]);
  });
  it('finds the ingress keys into one datapath and no other', () => {
    assert.deepEqual(patchKeysInto(FLOWS, 16711682), [1]);
    assert.deepEqual(patchKeysInto(FLOWS, 2), [4]);
    assert.deepEqual(patchKeysInto(FLOWS, 3), []);
  });
  it('reports entries whose key is no current patch port of that datapath', () => {
    const entries = parsePatchEntries(FLOWS);
    // ts re-keyed its router port from 1 to 5: the flow into the ts is stale, the one into the router is not.
    assert.deepEqual(stalePatchEntries(entries, [{ dp: 0xff0002, key: 5 }, { dp: 2, key: 4 }]), [{ dp: 0xff0002, key: 1 }]);
    assert.deepEqual(stalePatchEntries(entries, [{ dp: 0xff0002, key: 1 }, { dp: 0xff0002, key: 7 }, { dp: 2, key: 4 }]), []);
  });
  it('never reports a datapath it knows no patch port of (a partial view is no alarm)', () => {
    assert.deepEqual(stalePatchEntries(parsePatchEntries(FLOWS), [{ dp: 2, key: 4 }]), []);
  });
});
