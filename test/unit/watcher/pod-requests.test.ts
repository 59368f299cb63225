// What a pod may ask for through the Kube-OVN annotations: MACs and IPs are checked before they reach NB.
import assert from 'node:assert/strict';
import { parseCIDR, formatIP } from '../../../lib/ipnet/index.js';
import { SubnetIPAM } from '../../../watcher/ipam/pod-ipam.js';
import { RequestRefusedError, checkRequestedIP, macProblem, requestedIP, requestedMac } from '../../../watcher/ipam/requests.js';

const MAC = 'ovn.kubernetes.io/mac_address';
const IP = 'ovn.kubernetes.io/ip_address';
const free = () => undefined;
const refused = (re: RegExp) => (e: unknown) => e instanceof RequestRefusedError && re.test(e.message);

describe('pod address requests', () => {
  describe('MAC', () => {
    it('accepts one unicast MAC and lower-cases it', () => {
      assert.equal(requestedMac(MAC, '02:00:00:00:00:64', free), '02:00:00:00:00:64');
      assert.equal(requestedMac(MAC, ' 02:AB:cd:00:00:01 ', free), '02:ab:cd:00:00:01');
      assert.equal(macProblem('00:16:3e:00:00:01'), undefined);
    });
    it('refuses anything that is not exactly one MAC (the port_security spoof)', () => {
      for (const raw of ['02:00:00:00:00:64 10.244.0.0/16', '02:00:00:00:00', '02:00:00:00:00:00:01', '02-00-00-00-00-64', 'zz:00:00:00:00:01', '', '02:00:00:00:00:64\n10.0.0.1']) {
        assert.throws(() => requestedMac(MAC, raw, free), refused(/is not a MAC address/), JSON.stringify(raw));
      }
    });
    it('refuses multicast, broadcast and all-zero MACs', () => {
      assert.throws(() => requestedMac(MAC, '01:00:5e:00:00:01', free), refused(/multicast or broadcast/));
      assert.throws(() => requestedMac(MAC, '03:00:00:00:00:01', free), refused(/multicast or broadcast/));
      assert.throws(() => requestedMac(MAC, 'ff:ff:ff:ff:ff:ff', free), refused(/multicast or broadcast/));
      assert.throws(() => requestedMac(MAC, '00:00:00:00:00:00', free), refused(/all-zero/));
    });
    it('refuses the derived 0a:58 range and a MAC another port uses', () => {
      assert.throws(() => requestedMac(MAC, '0a:58:0a:f4:01:01', free), refused(/0a:58:\*, which Tessera derives/));
      assert.throws(() => requestedMac(MAC, '02:00:00:00:00:64', (m) => (m === '02:00:00:00:00:64' ? 'port default_other' : undefined)), refused(/already used by port default_other/));
    });
  });

  describe('IP', () => {
    const s = new SubnetIPAM(parseCIDR('10.244.1.0/24'));
    s.reserve('10.244.1.10', 'ns/b');
    it('parses the first address of the request, with or without a prefix', () => {
      assert.equal(formatIP(requestedIP(IP, '10.244.1.5')), '10.244.1.5');
      assert.equal(formatIP(requestedIP(IP, '10.244.1.5/24')), '10.244.1.5');
      assert.equal(formatIP(requestedIP(IP, '10.244.1.5,fd00::5')), '10.244.1.5');
      for (const raw of ['10.244.0.0/16 10.244.1.5', 'nope', '10.244.1.256', '']) assert.throws(() => requestedIP(IP, raw), refused(/is not an IP address/), raw);
    });
    it('accepts a free pod address of the subnet', () => {
      checkRequestedIP(s, requestedIP(IP, '10.244.1.20'), 'ns/a');
      checkRequestedIP(s, requestedIP(IP, '10.244.1.10'), 'ns/b'); // its own
    });
    it('refuses network, gateway, management and broadcast, other subnets and taken addresses', () => {
      for (const ip of ['10.244.1.0', '10.244.1.1', '10.244.1.2', '10.244.1.255']) {
        assert.throws(() => checkRequestedIP(s, requestedIP(IP, ip), 'ns/a'), refused(/reserved in subnet 10.244.1.0\/24 \(network, gateway, management or broadcast\)/), ip);
      }
      assert.throws(() => checkRequestedIP(s, requestedIP(IP, '10.244.2.5'), 'ns/a'), refused(/10.244.2.5 is not in subnet 10.244.1.0\/24/));
      assert.throws(() => checkRequestedIP(s, requestedIP(IP, 'fd00::5'), 'ns/a'), refused(/not in subnet/));
      assert.throws(() => checkRequestedIP(s, requestedIP(IP, '10.244.1.10'), 'ns/a'), refused(/10.244.1.10 is already allocated to ns\/b/));
      assert.equal(s.ownerOf('10.244.1.20'), undefined, 'checking claims nothing');
    });
  });
});
