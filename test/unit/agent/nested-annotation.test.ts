// The nested agent's annotation rules: the usual ones (address in the claimed switch, MAC, gateway) plus a VLAN id
// 1..4094; and port-up only counts for this port with the VLAN that was wired.
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { POD_NETWORKS_ANNOTATION, POD_PORT_UP_ANNOTATION, type PodNetwork } from '../../../lib/kube/annotations.js';
import { nestedNetworkProblem, nestedPortName, portUpFor, type NestedNetwork } from '../../../agent/nested/pod-network.js';
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

  it('takes a Neutron-made subport network (the watcher\'s Neutron mode): outside the node subnet, iface_id = the port id', () => {
    const PORT = '6e1b9b1c-2f0e-4a55-9c1e-0d8f3b5a7c21';
    const nn = { ip_addresses: ['192.168.30.7/24'], mac_address: 'fa:16:3e:ea:22:60', gateway_ips: ['192.168.30.1'], routes: [],
      logical_switch: 'neutron-052fd76e-105e-4c47-be02-d66b12c538f4', iface_id: PORT, vlan: 3 };
    const neutron = (over: Record<string, unknown>) => nestedNetworkProblem({ ...nn, ...over } as PodNetwork, 'vm1', node);
    assert.equal(neutron({}), undefined);
    assert.equal(nestedPortName(nn, 'default', 'p'), PORT, 'port-up to wait for: the subport id');
    assert.equal(nestedPortName(good as NestedNetwork, 'default', 'p'), 'default_p');
    assert.match(neutron({ iface_id: undefined }) ?? '', /is not a Neutron port id/);
    assert.match(neutron({ iface_id: 'default_p' }) ?? '', /is not a Neutron port id/);
    assert.match(neutron({ vlan: undefined }) ?? '', /no vlan/);
    assert.match(neutron({ gateway_ips: ['10.0.0.1'] }) ?? '', /gateway/);
    assert.match(neutron({ ip_addresses: ['192.168.30.0/24'] }) ?? '', /network or broadcast/);
    assert.match(problem({ iface_id: PORT }) ?? '', /logical_switch is not a Neutron network/);
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

describe('agent nested: --nested-parent-iface', () => {
  const base = ['--node-name', 'vm1', '--kube-api', 'http://10.0.0.1:6443'];
  it('is off by default, takes an interface name, and refuses anything else', async () => {
    const { parseConfig } = await import('../../../agent/config.js');
    const { ConfigError } = await import('../../../lib/cli.js');
    assert.equal(parseConfig(base).nestedParentIface, undefined);
    assert.equal(parseConfig([...base, '--nested-parent-iface', 'eth0']).nestedParentIface, 'eth0');
    for (const bad of ['eth0 x', '../x', 'a-very-long-interface-name', '-x']) {
      assert.throws(() => parseConfig([...base, `--nested-parent-iface=${bad}`]), (e: unknown) => e instanceof ConfigError && /nested-parent-iface/.test((e as Error).message), bad);
    }
  });

  it('comes from the config file\'s agent section too', async () => {
    const { parseConfig, spec } = await import('../../../agent/config.js');
    const { withConfigFile } = await import('../../../lib/config-file.js');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'nested-cfg-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ agent: { 'nested-parent-iface': 'ens3' } }));
      assert.equal(parseConfig(withConfigFile(spec, 'agent', [...base, '--config', file])).nestedParentIface, 'ens3');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
