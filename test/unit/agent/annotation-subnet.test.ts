// The agent wires a pod the watcher placed on a kubeovn.io Subnet, checking the annotation against the Subnet
// object it reads from the API (agent/subnets.ts), not against anything the pod owner wrote.
import assert from 'node:assert/strict';
import { podNetworkProblem } from '../../../agent/annotation-check.js';
import { subnetLookup } from '../../../agent/subnets.js';
import { nodeNet } from '../../../agent/node-init.js';
import type { PodNetwork } from '../../../lib/kube/annotations.js';
import type { Subnet } from '../../../lib/kube/kubeovn.js';

const node = nodeNet('n1', '10.244.1.0/24');
const subnets: Record<string, Subnet> = {
  net2: { metadata: { name: 'net2' }, spec: { vpc: 'v1', cidrBlock: '12.0.1.0/24', excludeIps: ['12.0.1.2..12.0.1.9'] } },
  gone: { metadata: { name: 'gone', deletionTimestamp: new Date() }, spec: { cidrBlock: '12.0.2.0/24' } },
};
const lookup = subnetLookup({ get: (n: string) => subnets[n] });
const good: PodNetwork = { ip_addresses: ['12.0.1.10/24'], mac_address: '0a:58:0c:00:01:0a', gateway_ips: ['12.0.1.1'], routes: [], logical_switch: 'net2' };
const problem = (over: Partial<PodNetwork>, withSubnets = true) => podNetworkProblem({ ...good, ...over }, 'n1', node, withSubnets ? lookup : undefined);

describe('agent annotation check for Subnet pods', () => {
  it('accepts an address of the named Subnet with its gateway', () => {
    assert.equal(problem({}), undefined);
  });

  it('without the Subnet view (the old agent) such a pod is refused', () => {
    assert.match(problem({}, false) ?? '', /is not this node's switch "n1"/);
  });

  it("refuses what the Subnet object does not allow: outside, gateway, excludeIps, another gateway, an unknown or deleting Subnet", () => {
    assert.equal(problem({ ip_addresses: ['12.0.2.10/24'] }), 'ip address "12.0.2.10/24" is outside Subnet net2 (12.0.1.0/24)');
    assert.equal(problem({ ip_addresses: ['12.0.1.1/24'] }), 'ip address "12.0.1.1/24" is the gateway of Subnet net2');
    assert.equal(problem({ ip_addresses: ['12.0.1.5/24'] }), 'ip address "12.0.1.5/24" is in the excludeIps of Subnet net2 (12.0.1.0/24)');
    assert.equal(problem({ gateway_ips: ['12.0.1.254'] }), 'gateway "12.0.1.254" is not Subnet net2\'s gateway 12.0.1.1');
    assert.match(problem({ logical_switch: 'other' }) ?? '', /nor a Subnet it can wire: no Subnet other/);
    assert.match(problem({ logical_switch: 'gone', ip_addresses: ['12.0.2.10/24'], gateway_ips: ['12.0.2.1'] }) ?? '', /Subnet gone is being deleted/);
    assert.match(problem({ logical_switch: 'ovn-default' }) ?? '', /served by the node switches/);
  });
});
