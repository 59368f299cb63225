import assert from 'node:assert/strict';
import { isolateHostVeth } from '../../../agent/host-veth.js';

describe('agent: host side of a pod veth on the userspace datapath', () => {
  it('stops answering ARP and takes nothing from the veth that should come through OVN', () => {
    const writes: Array<[string, string]> = [];
    isolateHostVeth('veth12ab34cd56e', (p, v) => writes.push([p, v]));
    assert.deepEqual(writes, [
      ['/proc/sys/net/ipv4/conf/veth12ab34cd56e/arp_ignore', '8'],
      ['/proc/sys/net/ipv4/conf/veth12ab34cd56e/rp_filter', '1'],
    ]);
  });

  it('refuses a name that is not an interface name before it reaches /proc', () => {
    const writes: string[] = [];
    for (const bad of ['../all', 'a/b', '', 'x'.repeat(16)]) {
      assert.throws(() => isolateHostVeth(bad, (p) => writes.push(p)), /is not an interface name/);
    }
    assert.deepEqual(writes, []);
  });
});
