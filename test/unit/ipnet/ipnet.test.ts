import assert from 'node:assert/strict';
import {
  parseIP, formatIP, parseCIDR, formatCIDR, contains, containsNet, overlaps, size, addressAt, offsetOf,
  subnetCount, nthSubnet, subnetIndex, addresses, lastAddress, parseInterfaceAddress, isIP, IPNetError,
} from '../../../lib/ipnet/index.js';

describe('ipnet', () => {
  describe('addresses', () => {
    it('round-trips IPv4', () => {
      for (const s of ['0.0.0.0', '10.244.1.5', '255.255.255.255']) assert.equal(formatIP(parseIP(s)), s);
    });
    it('rejects malformed IPv4 with the input in the message', () => {
      for (const s of ['10.244.1', '10.244.1.256', '01.2.3.4', '1.2.3.4.5', '', 'a.b.c.d', '1.2.3.-1']) {
        assert.throws(() => parseIP(s), (e: Error) => e instanceof IPNetError && e.message.includes(`"${s}"`), s);
      }
    });
    it('parses and formats IPv6 canonically (RFC 5952)', () => {
      assert.equal(formatIP(parseIP('fd00:0:0:0:0:0:0:1')), 'fd00::1');
      assert.equal(formatIP(parseIP('::')), '::');
      assert.equal(formatIP(parseIP('::1')), '::1');
      assert.equal(formatIP(parseIP('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
      assert.equal(formatIP(parseIP('2001:DB8::ABCD')), '2001:db8::abcd');
      assert.equal(formatIP(parseIP('1:2:3:4:5:6:7:8')), '1:2:3:4:5:6:7:8');
      assert.equal(formatIP(parseIP('1:0:3:4:5:6:7:8')), '1:0:3:4:5:6:7:8');
      assert.equal(parseIP('::ffff:10.0.0.1').value, 0xffff0a000001n);
    });
    it('rejects malformed IPv6', () => {
      for (const s of ['1::2::3', '1:2:3:4:5:6:7:8:9', 'fffff::', ':::', '1:2:3:4:5:6:7', 'g::1']) {
        assert.equal(isIP(s), false, s);
      }
    });
  });

  describe('CIDRs', () => {
    it('parses and formats', () => {
      const n = parseCIDR('10.244.0.0/16');
      assert.equal(n.prefix, 16);
      assert.equal(formatCIDR(n), '10.244.0.0/16');
      assert.equal(size(n), 65536n);
      assert.equal(formatCIDR(parseCIDR('fd00:10:244::/48')), 'fd00:10:244::/48');
    });
    it('refuses host bits unless asked not to, suggesting the network', () => {
      assert.throws(() => parseCIDR('10.244.1.5/16'), /host bits set: "10.244.1.5\/16" \(did you mean 10.244.0.0\/16\?\)/);
      assert.equal(formatCIDR(parseCIDR('10.244.1.5/16', { strict: false })), '10.244.0.0/16');
    });
    it('refuses bad prefixes and missing slashes', () => {
      assert.throws(() => parseCIDR('10.0.0.0/33'), /prefix must be 0..32/);
      assert.throws(() => parseCIDR('fd00::/129'), /prefix must be 0..128/);
      assert.throws(() => parseCIDR('10.0.0.0'), /missing \/prefix/);
      assert.throws(() => parseCIDR('10.0.0.0/'), /prefix/);
      assert.throws(() => parseCIDR('10.0.0/8'), /bad address/);
    });
    it('tests containment and overlap, never across families', () => {
      const a = parseCIDR('10.244.0.0/16');
      assert.ok(contains(a, parseIP('10.244.255.255')));
      assert.ok(!contains(a, parseIP('10.245.0.0')));
      assert.ok(containsNet(a, parseCIDR('10.244.3.0/24')));
      assert.ok(!containsNet(parseCIDR('10.244.3.0/24'), a));
      assert.ok(overlaps(a, parseCIDR('10.0.0.0/8')));
      assert.ok(overlaps(parseCIDR('10.0.0.0/8'), a));
      assert.ok(!overlaps(a, parseCIDR('10.96.0.0/16')));
      assert.ok(!overlaps(parseCIDR('0.0.0.0/0'), parseCIDR('::/0')));
      assert.ok(!contains(parseCIDR('::/0'), parseIP('1.2.3.4')));
      assert.ok(contains(parseCIDR('0.0.0.0/0'), parseIP('1.2.3.4')));
    });
    it('last address of a /24 and a /128', () => {
      assert.equal(formatIP(lastAddress(parseCIDR('10.244.1.0/24'))), '10.244.1.255');
      assert.equal(formatIP(lastAddress(parseCIDR('fd00::1/128'))), 'fd00::1');
    });
    it('parses interface addresses with host bits', () => {
      const { address, network } = parseInterfaceAddress('10.244.1.5/24');
      assert.equal(formatIP(address), '10.244.1.5');
      assert.equal(formatCIDR(network), '10.244.1.0/24');
    });
  });

  describe('carving and iteration', () => {
    it('carves /24s from a /16 and finds them back', () => {
      const c = parseCIDR('10.244.0.0/16');
      assert.equal(subnetCount(c, 24), 256n);
      assert.equal(formatCIDR(nthSubnet(c, 24, 0)), '10.244.0.0/24');
      assert.equal(formatCIDR(nthSubnet(c, 24, 255)), '10.244.255.0/24');
      assert.equal(subnetIndex(c, parseCIDR('10.244.7.0/24')), 7n);
      assert.throws(() => nthSubnet(c, 24, 256), /outside 0..255/);
      assert.throws(() => subnetCount(c, 8), /cannot carve \/8/);
      assert.throws(() => subnetIndex(c, parseCIDR('10.245.0.0/24')), /not inside/);
    });
    it('carves IPv6 /64s from a /48', () => {
      const c = parseCIDR('fd00:10:244::/48');
      assert.equal(subnetCount(c, 64), 65536n);
      assert.equal(formatCIDR(nthSubnet(c, 64, 3)), 'fd00:10:244:3::/64');
    });
    it('addresses by offset, both ways', () => {
      const n = parseCIDR('10.244.1.0/24');
      assert.equal(formatIP(addressAt(n, 3)), '10.244.1.3');
      assert.equal(offsetOf(n, parseIP('10.244.1.200')), 200n);
      assert.throws(() => addressAt(n, 256), /outside/);
      assert.throws(() => offsetOf(n, parseIP('10.244.2.1')), /not in/);
    });
    it('iterates within bounds', () => {
      const n = parseCIDR('10.0.0.0/30');
      assert.deepEqual([...addresses(n)].map(formatIP), ['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
      assert.deepEqual([...addresses(n, 2)].map(formatIP), ['10.0.0.2', '10.0.0.3']);
      assert.equal([...addresses(parseCIDR('10.0.0.0/8'), 0, 5)].length, 5);
    });
  });
});
