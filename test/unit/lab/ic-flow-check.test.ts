// The lab's detector for OVN 23.03's stale transit-switch patch flow reads ovs-ofctl's table 65: it must find the
// ingress key a router -> ts patch flow loads, and only for the transit switch's datapath.
import assert from 'node:assert/strict';
import { patchKeysInto } from '../../../lab/ic-flow-check.js';

// Two flows as ovs-ofctl dump-flows printed them on a gateway chassis (abridged): router port -> ts (stale key 1),
// and ts -> router.
const FLOWS = [
  ' cookie=0xcd3e80f7, table=65, n_packets=304, priority=100,reg15=0x4,metadata=0x2 actions=clone(ct_clear,load:0->NXM_NX_REG11[],load:0xe->NXM_NX_REG11[],load:0xd->NXM_NX_REG12[],load:0xff0002->OXM_OF_METADATA[],load:0x1->NXM_NX_REG14[],load:0->NXM_NX_REG10[],resubmit(,8))',
  ' cookie=0xa7cf1775, table=65, n_packets=4, priority=100,reg15=0x2,metadata=0xff0002 actions=clone(ct_clear,load:0x3->NXM_NX_REG11[],load:0x8->NXM_NX_REG12[],load:0x2->OXM_OF_METADATA[],load:0x4->NXM_NX_REG14[],resubmit(,8))',
].join('\n');

describe('lab transit flow check', () => {
  it('finds the ingress key of the patch into the transit switch datapath', () => {
    assert.deepEqual(patchKeysInto(FLOWS, 16711682), [1]);
  });
  it('does not confuse patches into other datapaths', () => {
    assert.deepEqual(patchKeysInto(FLOWS, 2), [4]);
    assert.deepEqual(patchKeysInto(FLOWS, 3), []);
  });
});
