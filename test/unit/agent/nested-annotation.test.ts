// The nested agent's annotation rules: the usual ones (address in the claimed switch, MAC, gateway) plus a VLAN id
// 1..4094; and port-up only counts for this port with the VLAN that was wired.
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { POD_NETWORKS_ANNOTATION, POD_PORT_UP_ANNOTATION, type PodNetwork } from '../../../lib/kube/annotations.js';
import { nestedNetworkProblem, portUpFor } from '../../../agent/nested/pod-network.js';
import { nodeNet } from '../../../agent/node-init.js';

const node = nodeNet('vm1', '10.244.2.0/24');
const good: PodNetwork = { ip_addresses: ['10.244.2.10/24'], mac_address: '0a:58:0a:f4:02:0a', gateway_ips: ['10.244.2.1'], routes: [], logical_switch: 'vm1', vlan: 5 };
const problem = (over: Record<string, unknown>) => nestedNetworkProblem({ ...good, ...over } as PodNetwork, 'vm1', node);

describe('agent nested: annotation', () => {
  it('accepts a valid network with a VLAN id at both ends of the range', () => {
    assert.equal(problem({}), undefined);
    assert.equal(problem({ vlan: 1 }), undefined);
    assert.equal(problem({ vlan: 4094 }), undefined);
  });

  it('refuses a missing or out-of-range VLAN id, naming it', () => {
    assert.match(problem({ vlan: undefined }) ?? '', /no vlan/);
    for (const v of [0, 4095, -1, 1.5, '7', null]) assert.match(problem({ vlan: v }) ?? '', /vlan .* is not an integer between 1 and 4094/, String(v));
  });

  it('refuses what the ordinary agent refuses: address outside the subnet, bad MAC, wrong gateway', () => {
    assert.match(problem({ ip_addresses: ['10.244.3.10/24'] }) ?? '', /outside the node subnet/);
    assert.match(problem({ mac_address: 'zz' }) ?? '', /not a MAC/);
    assert.match(problem({ gateway_ips: ['10.244.2.9'] }) ?? '', /gateway/);
  });

  it('port-up counts only for this port, this pod uid and the VLAN that was wired', () => {
    const pod = (up: string | undefined, vlan: number, uid = 'u1'): V1Pod => ({
      metadata: { uid, annotations: { [POD_NETWORKS_ANNOTATION]: JSON.stringify({ default: { ...good, vlan } }), ...(up ? { [POD_PORT_UP_ANNOTATION]: up } : {}) } },
    });
    assert.equal(portUpFor(pod('default_a', 5), 'u1', 'default_a', 5), true);
    assert.equal(portUpFor(pod(undefined, 5), 'u1', 'default_a', 5), false);
    assert.equal(portUpFor(pod('default_b', 5), 'u1', 'default_a', 5), false);
    assert.equal(portUpFor(pod('default_a', 6), 'u1', 'default_a', 5), false, 're-tagged since');
    assert.equal(portUpFor(pod('default_a', 5, 'u0'), 'u1', 'default_a', 5), false, 'an earlier pod of that name');
  });
});
