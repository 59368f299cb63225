import assert from 'node:assert/strict';
import { parseCIDR, formatCIDR, formatIP } from '../../../lib/ipnet/index.js';
import { SubnetAllocator, SubnetExhaustedError, SubnetConflictError } from '../../../watcher/ipam/subnet-allocator.js';
import { SubnetIPAM, AddressExhaustedError, AddressConflictError } from '../../../watcher/ipam/pod-ipam.js';

describe('watcher IPAM', () => {
  describe('node subnets', () => {
    it('allocates distinct /24s and is stable per node', () => {
      const a = new SubnetAllocator(parseCIDR('10.244.0.0/16'), 24);
      const n1 = formatCIDR(a.allocate('n1'));
      const n2 = formatCIDR(a.allocate('n2'));
      assert.notEqual(n1, n2);
      assert.equal(formatCIDR(a.allocate('n1')), n1);
    });
    it('rebuilds from annotations and never hands a reserved subnet out again', () => {
      const a = new SubnetAllocator(parseCIDR('10.244.0.0/16'), 24);
      a.reserve('old', '10.244.0.0/24');
      a.reserve('older', '10.244.1.0/24');
      assert.equal(formatCIDR(a.allocate('new')), '10.244.2.0/24');
      assert.throws(() => a.reserve('other', '10.244.1.0/24'), (e: Error) => e instanceof SubnetConflictError && /already assigned to node older/.test(e.message));
      assert.throws(() => a.reserve('new', '10.244.9.0/24'), /already has subnet 10.244.2.0\/24/);
      assert.throws(() => a.reserve('x', '10.245.0.0/24'), /not a \/24 of the cluster CIDR/);
      assert.throws(() => a.reserve('x', '10.244.0.0/25'), /not a \/24/);
    });
    it('reuses a released subnet and reports exhaustion', () => {
      const a = new SubnetAllocator(parseCIDR('10.244.0.0/23'), 24);
      a.allocate('a');
      a.allocate('b');
      assert.throws(() => a.allocate('c'), (e: Error) => e instanceof SubnetExhaustedError && /no free \/24 left in cluster CIDR 10.244.0.0\/23 for node c/.test(e.message));
      a.release('a');
      assert.equal(formatCIDR(a.allocate('c')), '10.244.0.0/24');
    });
  });

  describe('pod addresses', () => {
    it('starts at .3, skipping network, gateway and management port', () => {
      const s = new SubnetIPAM(parseCIDR('10.244.1.0/24'));
      assert.equal(formatIP(s.gateway), '10.244.1.1');
      assert.equal(formatIP(s.managementIP), '10.244.1.2');
      assert.equal(formatIP(s.allocate('ns/a')), '10.244.1.3');
      assert.equal(formatIP(s.allocate('ns/b')), '10.244.1.4');
      assert.equal(formatIP(s.allocate('ns/a')), '10.244.1.3');
    });
    it('refuses reserved, foreign and taken addresses', () => {
      const s = new SubnetIPAM(parseCIDR('10.244.1.0/24'));
      s.reserve('10.244.1.10', 'ns/a');
      assert.throws(() => s.reserve('10.244.1.10', 'ns/b'), (e: Error) => e instanceof AddressConflictError && /already allocated to ns\/a/.test(e.message));
      for (const ip of ['10.244.1.0', '10.244.1.1', '10.244.1.2', '10.244.1.255']) assert.throws(() => s.reserve(ip, 'ns/c'), /reserved/);
      assert.throws(() => s.reserve('10.244.2.3', 'ns/c'), /not in subnet/);
      assert.throws(() => s.reserve('10.244.1.11', 'ns/a'), /already holds 10.244.1.10/);
    });
    it('never hands out a rebuilt address, and frees on release', () => {
      const s = new SubnetIPAM(parseCIDR('10.244.1.0/29'));
      s.reserve('10.244.1.3', 'ns/a');
      assert.equal(formatIP(s.allocate('ns/b')), '10.244.1.4');
      s.release('ns/a');
      assert.equal(s.ownerOf('10.244.1.3'), undefined);
      assert.equal(s.ownerOf('10.244.1.4'), 'ns/b');
      assert.equal(s.allocated, 1);
    });
    it('reports exhaustion with the subnet and the pod', () => {
      const s = new SubnetIPAM(parseCIDR('10.244.1.0/29'));
      for (const p of ['a', 'b', 'c', 'd']) s.allocate(`ns/${p}`);
      assert.throws(() => s.allocate('ns/e'), (e: Error) => e instanceof AddressExhaustedError && /10.244.1.0\/29 has no free address for ns\/e/.test(e.message));
      s.release('ns/b');
      assert.equal(formatIP(s.allocate('ns/e')), '10.244.1.4');
    });
    it('does not skip the last address in IPv6 (no broadcast)', () => {
      const s = new SubnetIPAM(parseCIDR('fd00::/125'));
      const got = ['a', 'b', 'c', 'd', 'e'].map((p) => formatIP(s.allocate(p)));
      assert.deepEqual(got, ['fd00::3', 'fd00::4', 'fd00::5', 'fd00::6', 'fd00::7']);
    });
  });
});

import { PodIPAM } from '../../../watcher/ipam/pod-ipam.js';

describe('PodIPAM across switches', () => {
  it('tracks which switch holds an owner, frees per switch, and drops a removed switch', () => {
    const p = new PodIPAM();
    p.setSubnet('n1', parseCIDR('10.244.1.0/24'));
    p.setSubnet('n2', parseCIDR('10.244.2.0/24'));
    assert.equal(formatIP(p.allocate('n1', 'ns/a')), '10.244.1.3');
    assert.deepEqual(p.holding('ns/a') && [p.holding('ns/a')!.ls, formatIP(p.holding('ns/a')!.ip)], ['n1', '10.244.1.3']);
    // A pod that moves: the new address is taken before the old one is freed.
    assert.equal(formatIP(p.allocate('n2', 'ns/a')), '10.244.2.3');
    assert.equal(p.forSwitch('n1')!.ownerOf('10.244.1.3'), 'ns/a');
    p.releaseOn('n1', 'ns/a');
    assert.equal(p.forSwitch('n1')!.ownerOf('10.244.1.3'), undefined);
    assert.equal(p.holding('ns/a')!.ls, 'n2');
    p.reserve('n1', '10.244.1.9', 'ns/b');
    p.removeSwitch('n1');
    assert.equal(p.holding('ns/b'), undefined);
    assert.throws(() => p.allocate('n1', 'ns/c'), /logical switch n1 has no subnet yet/);
    assert.deepEqual(p.entries(), [{ owner: 'ns/a', ls: 'n2', ip: '10.244.2.3' }]);
  });
});
