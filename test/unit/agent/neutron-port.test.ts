// The agent's check of a pod network naming a Neutron port (Kuryr baremetal): only with --neutron-ports, only a
// Neutron port id no other pod on the node carries, and an address whose gateway and routes are on its own subnet.
import assert from 'node:assert/strict';
import { neutronNetworkProblem } from '../../../agent/neutron-port.js';
import type { PodNetwork } from '../../../lib/kube/annotations.js';

const PORT = '92d7ece2-2335-416c-b17d-61983e4eadcc';
const good: PodNetwork = {
  ip_addresses: ['192.168.1.199/24'], mac_address: 'fa:16:3e:ea:22:60', gateway_ips: ['192.168.1.1'],
  routes: [{ dest: '10.0.0.0/8', nextHop: '192.168.1.254' }], logical_switch: 'neutron-052fd76e-105e-4c47-be02-d66b12c538f4', iface_id: PORT,
};
const none = (): undefined => undefined;

describe('agent: pod networks naming a Neutron port (iface_id)', () => {
  it('accepts a Neutron port with its subnet\'s address, gateway and routes', () => {
    assert.equal(neutronNetworkProblem(good, true, none), undefined);
    assert.equal(neutronNetworkProblem({ ...good, gateway_ips: [], routes: [] }, true, none), undefined);
  });
  it('refuses iface_id unless the agent runs with --neutron-ports', () => {
    assert.match(neutronNetworkProblem(good, false, none)!, /does not take Neutron ports \(--neutron-ports\)/);
  });
  it('refuses an iface_id that is not a Neutron port id (another pod\'s <ns>_<pod>, a management port)', () => {
    for (const id of ['default_web', 'k8s-n1', PORT.toUpperCase(), `${PORT}x`, '']) {
      assert.match(neutronNetworkProblem({ ...good, iface_id: id }, true, none)!, /is not a Neutron port id/, id);
    }
  });
  it('refuses an iface_id another pod on this node already carries', () => {
    assert.match(neutronNetworkProblem(good, true, (id) => (id === PORT ? 'default_other' : undefined))!, /already wired for pod port default_other/);
  });
  it('refuses inconsistent addressing', () => {
    assert.match(neutronNetworkProblem({ ...good, gateway_ips: ['10.0.0.1'] }, true, none)!, /gateway "10.0.0.1" is not another address/);
    assert.match(neutronNetworkProblem({ ...good, gateway_ips: ['192.168.1.199'] }, true, none)!, /gateway/);
    assert.match(neutronNetworkProblem({ ...good, ip_addresses: ['192.168.1.255/24'] }, true, none)!, /network or broadcast/);
    assert.match(neutronNetworkProblem({ ...good, ip_addresses: ['192.168.1.5/24', '192.168.1.6/24'] }, true, none)!, /exactly one/);
    assert.match(neutronNetworkProblem({ ...good, routes: [{ dest: '10.0.0.0/8', nextHop: '172.16.0.1' }] }, true, none)!, /nextHop is not on the pod's subnet/);
    assert.match(neutronNetworkProblem({ ...good, routes: [{ dest: 'x', nextHop: '192.168.1.1' }] }, true, none)!, /dest is not a network/);
    assert.match(neutronNetworkProblem({ ...good, mac_address: '01:00:5e:00:00:01' }, true, none)!, /multicast/);
    assert.match(neutronNetworkProblem({ ...good, logical_switch: 'n1' }, true, none)!, /is not a Neutron network/);
    assert.match(neutronNetworkProblem({ ...good, vlan: 5 }, true, none)!, /iface_id and vlan together/);
  });
});
