// The pod IPAM rebuild: only NB ports of ours claim addresses; two ports on one address → the older pod keeps it.
import assert from 'node:assert/strict';
import { parseCIDR, formatIP } from '../../../lib/ipnet/index.js';
import { PodIPAM } from '../../../watcher/ipam/pod-ipam.js';
import { claimOrder, rebuildPodAddresses, type PodAge, type PortClaim } from '../../../watcher/ipam/rebuild.js';

const claim = (owner: string, ip: string, uid?: string): PortClaim => ({ owner, ls: 'n1', port: owner.replace('/', '_'), ip, ...(uid ? { uid } : {}) });

function ipam(): PodIPAM {
  const p = new PodIPAM();
  p.setSubnet('n1', parseCIDR('10.244.1.0/24'));
  return p;
}

describe('pod IPAM rebuild from NB ports', () => {
  const pods: Record<string, PodAge> = {
    'ns/old': { uid: 'u-old', creationTimestamp: '2026-01-01T00:00:00Z' },
    'ns/young': { uid: 'u-young', creationTimestamp: '2026-01-01T00:00:05Z' },
    'ns/a': { uid: 'u-a', creationTimestamp: '2026-01-01T00:00:09Z' },
    'ns/b': { uid: 'u-b', creationTimestamp: '2026-01-01T00:00:09Z' },
  };
  const podOf = (k: string) => pods[k];

  it('the older pod keeps a contested address whatever order NB lists the ports in', () => {
    for (const claims of [[claim('ns/young', '10.244.1.5'), claim('ns/old', '10.244.1.5')], [claim('ns/old', '10.244.1.5'), claim('ns/young', '10.244.1.5')]]) {
      const p = ipam();
      const lost = rebuildPodAddresses(p, claims, podOf);
      assert.equal(p.forSwitch('n1')!.ownerOf('10.244.1.5'), 'ns/old');
      assert.equal(p.holding('ns/young'), undefined, 'the younger pod holds nothing and is allocated afresh by its sync');
      assert.deepEqual(lost.map((l) => [l.claim.owner, l.reason]), [['ns/young', '10.244.1.5 is already allocated to ns/old']]);
    }
  });

  it('ties on creationTimestamp go to the key that sorts first', () => {
    const p = ipam();
    rebuildPodAddresses(p, [claim('ns/b', '10.244.1.7'), claim('ns/a', '10.244.1.7')], podOf);
    assert.equal(p.forSwitch('n1')!.ownerOf('10.244.1.7'), 'ns/a');
  });

  it('a port whose pod is gone, or is another incarnation, loses; uncontested it still holds its address until deleted', () => {
    const p = ipam();
    const lost = rebuildPodAddresses(p, [claim('ns/gone', '10.244.1.5'), claim('ns/young', '10.244.1.5'), claim('ns/old', '10.244.1.6', 'u-previous'), claim('ns/a', '10.244.1.6'), claim('ns/ghost', '10.244.1.9')], podOf);
    assert.equal(p.forSwitch('n1')!.ownerOf('10.244.1.5'), 'ns/young');
    assert.equal(p.forSwitch('n1')!.ownerOf('10.244.1.6'), 'ns/a');
    assert.equal(p.forSwitch('n1')!.ownerOf('10.244.1.9'), 'ns/ghost', 'freed only after its port is deleted');
    assert.deepEqual(lost.map((l) => l.claim.owner).sort(), ['ns/gone', 'ns/old']);
  });

  it('orders live pods oldest first, then by key, gone pods last', () => {
    const order = claimOrder([claim('ns/gone', '10.244.1.3'), claim('ns/b', '10.244.1.4'), claim('ns/young', '10.244.1.5'), claim('ns/a', '10.244.1.6'), claim('ns/old', '10.244.1.7', 'u-old')], podOf);
    assert.deepEqual(order.map((c) => c.owner), ['ns/old', 'ns/young', 'ns/a', 'ns/b', 'ns/gone']);
  });

  it('refuses addresses a port cannot hold: excluded, foreign, malformed', () => {
    const p = ipam();
    const lost = rebuildPodAddresses(p, [claim('ns/a', '10.244.1.1'), claim('ns/b', '10.244.9.3'), claim('ns/old', 'garbage')], podOf);
    assert.equal(p.allocated, 0);
    assert.deepEqual(lost.map((l) => l.claim.owner).sort(), ['ns/a', 'ns/b', 'ns/old']);
    assert.match(lost.find((l) => l.claim.owner === 'ns/a')!.reason, /reserved/);
    assert.equal(formatIP(p.allocate('n1', 'ns/a')), '10.244.1.3');
  });
});
