import assert from 'node:assert/strict';
import { addressHolder, podNetworkProblem, type PortAddresses } from '../../../agent/annotation-check.js';
import { nodeNet } from '../../../agent/node-init.js';
import { subnetLookup } from '../../../agent/subnets.js';
import type { PodNetwork } from '../../../lib/kube/annotations.js';
import type { Subnet } from '../../../lib/kube/kubeovn.js';

const node = nodeNet('n1', '10.244.1.0/24');
const good: PodNetwork = {
  ip_addresses: ['10.244.1.11/24'], mac_address: '0a:58:0a:f4:01:0b', gateway_ips: ['10.244.1.1'],
  routes: [{ dest: '10.96.0.0/16', nextHop: '10.244.1.1' }], logical_switch: 'n1',
};
const problem = (over: Record<string, unknown>): string | undefined => podNetworkProblem({ ...good, ...over } as PodNetwork, 'n1', node);

describe('agent pod-networks annotation check', () => {
  it('accepts what the watcher writes (with or without routes and mtu)', () => {
    assert.equal(problem({}), undefined);
    assert.equal(problem({ routes: [], mtu: 1400 }), undefined);
    assert.equal(problem({ routes: undefined }), undefined);
    assert.equal(problem({ mac_address: '0A:58:0A:F4:01:0B' }), undefined);
  });

  it('refuses addresses this node cannot carry, naming the value', () => {
    assert.equal(problem({ ip_addresses: ['10.244.2.11/24'] }), 'ip address "10.244.2.11/24" is outside the node subnet 10.244.1.0/24');
    assert.equal(problem({ ip_addresses: ['10.244.1.11/24', '192.168.77.5/24'] }), 'ip address "192.168.77.5/24" is outside the node subnet 10.244.1.0/24');
    assert.equal(problem({ ip_addresses: ['10.244.1.11/16'] }), 'ip address "10.244.1.11/16" does not have the node subnet\'s prefix /24');
    assert.equal(problem({ ip_addresses: ['10.244.1.1/24'] }), 'ip address "10.244.1.1/24" is the gateway of 10.244.1.0/24');
    assert.equal(problem({ ip_addresses: ['10.244.1.2/24'] }), 'ip address "10.244.1.2/24" is the management port address of 10.244.1.0/24');
    assert.equal(problem({ ip_addresses: ['10.244.1.0/24'] }), 'ip address "10.244.1.0/24" is the subnet address of 10.244.1.0/24');
    assert.equal(problem({ ip_addresses: ['10.244.1.255/24'] }), 'ip address "10.244.1.255/24" is the broadcast address of 10.244.1.0/24');
    assert.equal(problem({ ip_addresses: ['10.244.1.11'] }), 'ip address "10.244.1.11" is not in CIDR form');
    assert.equal(problem({ ip_addresses: [] }), 'no ip_addresses');
    assert.equal(problem({ ip_addresses: '10.244.1.11/24' }), 'no ip_addresses');
    assert.equal(problem({ logical_switch: 'n2' }), 'logical_switch "n2" is not this node\'s switch "n1"');
  });

  it('refuses malformed, multicast and all-zero MACs', () => {
    assert.equal(problem({ mac_address: '0a:58:0a:f4:01:0b 10.244.0.0/16' }), 'mac_address "0a:58:0a:f4:01:0b 10.244.0.0/16" is not a MAC address');
    assert.equal(problem({ mac_address: '01:00:5e:00:00:01' }), 'mac_address "01:00:5e:00:00:01" is a multicast MAC');
    assert.equal(problem({ mac_address: 'ff:ff:ff:ff:ff:ff' }), 'mac_address "ff:ff:ff:ff:ff:ff" is a multicast MAC');
    assert.equal(problem({ mac_address: '00:00:00:00:00:00' }), 'mac_address "00:00:00:00:00:00" is all zeros');
    assert.equal(problem({ mac_address: 42 }), 'mac_address 42 is not a MAC address');
  });

  it('refuses a gateway other than the subnet\'s, and routes that are not via it or cover the subnet', () => {
    assert.equal(problem({ gateway_ips: ['10.244.1.254'] }), 'gateway "10.244.1.254" is not the node subnet\'s gateway 10.244.1.1');
    assert.equal(problem({ gateway_ips: [] }), 'no gateway_ips (expected ["10.244.1.1"])');
    assert.equal(problem({ routes: [{ dest: '10.96.0.0/16', nextHop: '10.244.1.99' }] }),
      'route {"dest":"10.96.0.0/16","nextHop":"10.244.1.99"}: nextHop is not the node subnet\'s gateway 10.244.1.1');
    assert.equal(problem({ routes: [{ dest: '10.244.1.0/25', nextHop: '10.244.1.1' }] }),
      'route {"dest":"10.244.1.0/25","nextHop":"10.244.1.1"}: dest lies inside the node subnet 10.244.1.0/24, which the pod reaches directly');
    assert.equal(problem({ routes: [{ dest: '10.96.0.1/16', nextHop: '10.244.1.1' }] }), 'route {"dest":"10.96.0.1/16","nextHop":"10.244.1.1"}: dest is not a network in CIDR form');
    assert.equal(problem({ routes: [{ dest: 'fd00::/64', nextHop: '10.244.1.1' }] }), 'route {"dest":"fd00::/64","nextHop":"10.244.1.1"}: dest is not IPv4');
    assert.equal(problem({ routes: 'all' }), 'routes "all" is not a list');
    assert.equal(problem({ routes: [{ dest: '10.244.0.0/16', nextHop: '10.244.1.1' }] }), undefined, 'the cluster CIDR around the subnet is fine');
  });

  it('refuses an MTU outside 576..9000', () => {
    assert.equal(problem({ mtu: 68 }), 'mtu 68 is not an integer between 576 and 9000');
    assert.equal(problem({ mtu: 1400.5 }), 'mtu 1400.5 is not an integer between 576 and 9000');
    assert.equal(problem({ mtu: '1400' }), 'mtu "1400" is not an integer between 576 and 9000');
  });

  it('finds another pod\'s port on this node carrying the address, not the pod\'s own', () => {
    const ports = [{ ifaceId: 'default_a', addresses: ['10.244.1.11/24'], logicalSwitch: 'n1' }, { ifaceId: 'default_b', addresses: ['10.244.1.12/24'], logicalSwitch: 'n1' }];
    assert.equal(addressHolder(['10.244.1.12/24'], 'default_c', ports, 'n1'), 'default_b');
    assert.equal(addressHolder(['10.244.1.11/24'], 'default_a', ports, 'n1'), undefined, 'a re-ADD of the same pod');
    assert.equal(addressHolder(['10.244.1.13/24'], 'default_c', ports, 'n1'), undefined);
  });

  describe('the same address on several switches of a node (custom Vpcs overlap)', () => {
    // vpc-a and vpc-c both use 10.50.0.0/24; subnet-a2 is vpc-a's second Subnet. Pod a1 on subnet-a holds .10.
    const subnets: Record<string, Subnet> = {
      'subnet-a': { metadata: { name: 'subnet-a' }, spec: { vpc: 'vpc-a', cidrBlock: '10.50.0.0/24' } },
      'subnet-a2': { metadata: { name: 'subnet-a2' }, spec: { vpc: 'vpc-a', cidrBlock: '10.51.0.0/24' } },
      'subnet-c': { metadata: { name: 'subnet-c' }, spec: { vpc: 'vpc-c', cidrBlock: '10.50.0.0/24' } },
    };
    const lookup = subnetLookup({ get: (n: string) => subnets[n] });
    const a1: PortAddresses = { ifaceId: 'vpc-a_a1', addresses: ['10.50.0.10/24'], logicalSwitch: 'subnet-a' };
    const claim = (sw: string, gw = '10.50.0.1'): PodNetwork => ({ ip_addresses: ['10.50.0.10/24'], mac_address: '0a:58:0a:32:00:0a', gateway_ips: [gw], routes: [], logical_switch: sw });
    // As agent/pod-network.ts does: the annotation check against the Subnet object, then the holder on its switch.
    const verdict = (n: PodNetwork, ports: PortAddresses[] = [a1]): string | undefined => podNetworkProblem(n, 'n1', node, lookup) ?? addressHolder(n.ip_addresses, 'x_new', ports, n.logical_switch);

    it('allows the address on another Vpc\'s switch', () => {
      assert.equal(verdict(claim('subnet-c')), undefined);
    });

    it('refuses it on the same switch', () => {
      assert.equal(verdict(claim('subnet-a')), 'vpc-a_a1');
    });

    it('refuses it against a port without a recorded switch (wired by an older agent)', () => {
      assert.equal(verdict(claim('subnet-c'), [{ ifaceId: 'vpc-a_a1', addresses: ['10.50.0.10/24'] }]), 'vpc-a_a1');
    });

    it('a forged logical_switch of the same network does not dodge it: the address must lie in that switch\'s CIDR', () => {
      assert.equal(verdict(claim('subnet-a2', '10.51.0.1')), 'ip address "10.50.0.10/24" is outside Subnet subnet-a2 (10.51.0.0/24)');
      assert.equal(verdict(claim('n1', '10.244.1.1')), 'ip address "10.50.0.10/24" is outside the node subnet 10.244.1.0/24');
      assert.match(verdict(claim('subnet-x')) ?? '', /no Subnet subnet-x/);
    });
  });
});
