// Neutron pod-port mode, pure parts: a Neutron port → the pod-networks entry, the tags that identify a pod's port,
// the choice of a free VLAN id on a trunk, the flags, the per-Namespace choice and the credentials from a Secret.
import assert from 'node:assert/strict';
import type { NeutronPort, NeutronSubnet } from '../../../lib/neutron/types.js';
import {
  bindingWorks, freeVlan, mergePorts, podNetworkFromPort, podUidOf, portOrigin, portTags, PortTranslationError, VlanExhaustedError,
} from '../../../watcher/neutron-ports/translate.js';
import { parseNeutronPortsConfig, type NeutronPortsConfig } from '../../../watcher/neutron-ports/config.js';
import { portChoice } from '../../../watcher/neutron-ports/namespace.js';
import { NeutronRefusal } from '../../../watcher/neutron-ports/problems.js';
import { neutronOptionsFromSecret, CredentialsError } from '../../../lib/neutron/credentials.js';
import { ConfigError } from '../../../lib/cli.js';

const NET = '052fd76e-105e-4c47-be02-d66b12c538f4';
const SUB = '9bf6d923-27e9-435a-85f9-a9b3253be898';
const SG = '3e1ab02c-1489-4b15-bf98-8c33f3e8004f';
const port: NeutronPort = {
  id: '92d7ece2-2335-416c-b17d-61983e4eadcc', name: 'default/a', network_id: NET, project_id: 'p', mac_address: 'FA:16:3E:EA:22:60',
  fixed_ips: [{ subnet_id: SUB, ip_address: '192.168.1.199' }], device_owner: '', device_id: '', security_groups: [SG], status: 'DOWN',
};
const subnet: NeutronSubnet = {
  id: SUB, name: 'sub1', network_id: NET, project_id: 'p', cidr: '192.168.1.0/24', gateway_ip: '192.168.1.1', ip_version: 4,
  host_routes: [{ destination: '10.0.0.0/8', nexthop: '192.168.1.254' }],
};

describe('Neutron pod ports: translation', () => {
  it('a nested port becomes ip/prefix, MAC, gateway, host routes, the network MTU, the VLAN and iface_id = the subport id', () => {
    assert.deepEqual(podNetworkFromPort(port, subnet, { mtu: 1442 }, { kind: 'nested', vlan: 7 }), {
      ip_addresses: ['192.168.1.199/24'], mac_address: 'fa:16:3e:ea:22:60', gateway_ips: ['192.168.1.1'],
      routes: [{ dest: '10.0.0.0/8', nextHop: '192.168.1.254' }], logical_switch: `neutron-${NET}`, mtu: 1442, vlan: 7, iface_id: port.id,
    });
  });
  it('a baremetal port carries iface_id = the Neutron port id and no VLAN', () => {
    const n = podNetworkFromPort(port, { ...subnet, gateway_ip: null, host_routes: [] }, undefined, { kind: 'baremetal' });
    assert.equal(n.iface_id, port.id);
    assert.equal(n.vlan, undefined);
    assert.deepEqual(n.gateway_ips, []);
    assert.equal(n.mtu, undefined);
  });
  it('refuses a port with no address on the subnet, and an IPv6 subnet', () => {
    assert.throws(() => podNetworkFromPort({ ...port, fixed_ips: [] }, subnet, undefined, { kind: 'baremetal' }), PortTranslationError);
    assert.throws(() => podNetworkFromPort({ ...port, fixed_ips: [{ subnet_id: SUB, ip_address: 'fd00::5' }] }, { ...subnet, cidr: 'fd00::/64', ip_version: 6 }, undefined, { kind: 'baremetal' }), PortTranslationError);
  });
  it('a binding works unless Neutron reports it failed or not yet tried', () => {
    assert.equal(bindingWorks({ 'binding:vif_type': 'ovs' }), true);
    assert.equal(bindingWorks({ 'binding:vif_type': 'binding_failed' }), false);
    assert.equal(bindingWorks({ 'binding:vif_type': 'unbound' }), false);
  });
  it('finds the pod uid only on a port with Tessera\'s and this cluster\'s tags', () => {
    assert.equal(podUidOf({ tags: portTags('c1', 'u-1') }, 'c1'), 'u-1');
    assert.equal(podUidOf({ tags: portTags('c1', 'u-1') }, 'c2'), undefined, 'another cluster\'s port');
    assert.equal(podUidOf({ tags: ['tessera-pod:u-1', 'tessera-cluster:c1'] }, 'c1'), undefined, 'no tessera tag');
    assert.equal(podUidOf({}, 'c1'), undefined);
  });
  it('an untagged port (its tags never went on) is the cluster\'s only by both marks its POST stored', () => {
    assert.deepEqual(portOrigin('c1', 'u-1'), { device_owner: 'tessera:pod', description: 'tessera-cluster:c1 tessera-pod:u-1' });
    assert.equal(podUidOf(portOrigin('c1', 'u-1'), 'c1'), 'u-1');
    assert.equal(podUidOf({ ...portOrigin('c1', 'u-1'), tags: [] }, 'c1'), 'u-1');
    assert.equal(podUidOf(portOrigin('c1', 'u-1'), 'c2'), undefined, 'another cluster\'s port');
    assert.equal(podUidOf(portOrigin('c1.x', 'u-1'), 'c1'), undefined, 'another cluster\'s port, a longer name');
    assert.equal(podUidOf({ ...portOrigin('c1', 'u-1'), device_owner: '' }, 'c1'), undefined, 'the description alone (anyone can write it)');
    assert.equal(podUidOf({ ...portOrigin('c1', 'u-1'), description: 'tessera-cluster:c1 tessera-pod:u-1 copy' }, 'c1'), undefined);
    assert.equal(podUidOf({ device_owner: 'tessera:pod', description: 'tessera-cluster:c1' }, 'c1'), undefined, 'no pod uid');
    assert.equal(podUidOf({ ...portOrigin('c1', 'u-1'), tags: ['mine'] }, 'c1'), undefined, 'someone else tagged it: not ours to claim');
  });
  it('merges listings once per port, tagged ports first', () => {
    const a = { ...port, id: 'a', ...portOrigin('c1', 'u-1') };
    const b = { ...a, id: 'b', tags: portTags('c1', 'u-1') };
    assert.deepEqual(mergePorts([[a], [a, b], [b]]).map((p) => p.id), ['b', 'a']);
  });
});

describe('Neutron pod ports: VLAN ids per trunk', () => {
  it('takes the lowest id neither a subport nor an add in flight holds', () => {
    assert.equal(freeVlan('t', []), 1);
    assert.equal(freeVlan('t', [1, 2, 4]), 3);
    assert.equal(freeVlan('t', [1, 2], [3]), 4);
  });
  it('reuses an id once its subport is gone (the trunk as Neutron lists it after a restart)', () => {
    const used = Array.from({ length: 4094 }, (_, i) => i + 1);
    assert.throws(() => freeVlan('t', used), (e: unknown) => e instanceof VlanExhaustedError && /trunk t has no free VLAN id/.test(e.message));
    assert.equal(freeVlan('t', used.filter((v) => v !== 1234)), 1234);
  });
});

describe('Neutron pod ports: configuration', () => {
  const base = { 'neutron-secret': 'kube-system/tessera-neutron', 'neutron-network': NET, 'neutron-subnet': SUB, 'neutron-cluster-name': 'kubernetes' };
  it('is off without --neutron-secret, and refuses its other flags alone', () => {
    assert.equal(parseNeutronPortsConfig({}), undefined);
    assert.throws(() => parseNeutronPortsConfig({ 'neutron-network': NET }), (e: unknown) => e instanceof ConfigError && /--neutron-network needs --neutron-secret/.test(e.message));
  });
  it('parses the Secret reference, ids and security groups', () => {
    assert.deepEqual(parseNeutronPortsConfig({ ...base, 'neutron-security-group': [SG] }), {
      secret: { namespace: 'kube-system', name: 'tessera-neutron' }, networkId: NET, subnetId: SUB, securityGroups: [SG], cluster: 'kubernetes',
    });
  });
  it('refuses ids that are not UUIDs and a malformed Secret reference', () => {
    assert.throws(() => parseNeutronPortsConfig({ ...base, 'neutron-subnet': '../ports' }), /--neutron-subnet must be a Neutron id/);
    assert.throws(() => parseNeutronPortsConfig({ ...base, 'neutron-secret': 'tessera-neutron' }), /--neutron-secret must be NAMESPACE\/NAME/);
    assert.throws(() => parseNeutronPortsConfig({ ...base, 'neutron-security-group': ['default'] }), /--neutron-security-group must be a Neutron id/);
  });
  it('a Namespace picks its subnet and security groups; malformed values are refused', () => {
    const cfg = parseNeutronPortsConfig(base) as NeutronPortsConfig;
    assert.deepEqual(portChoice(cfg, undefined), { subnetId: SUB, networkId: NET, securityGroups: [] });
    const other = '11111111-2222-3333-4444-555555555555';
    assert.deepEqual(portChoice(cfg, { metadata: { name: 'a', annotations: { 'tessera.io/neutron-subnet': other, 'tessera.io/neutron-security-groups': `${SG}, ${other}` } } }),
      { subnetId: other, securityGroups: [SG, other] });
    assert.throws(() => portChoice(cfg, { metadata: { name: 'a', annotations: { 'tessera.io/neutron-subnet': 'x/../y' } } }), NeutronRefusal);
    assert.throws(() => portChoice(cfg, { metadata: { name: 'a', annotations: { 'tessera.io/neutron-security-groups': 'default' } } }), NeutronRefusal);
  });
});

describe('Neutron credentials from a Secret', () => {
  it('noauth: the endpoint and the project', () => {
    const o = neutronOptionsFromSecret({ OS_AUTH_TYPE: 'noauth', OS_ENDPOINT: 'http://10.0.0.5:9696/v2.0/', OS_PROJECT_ID: 'tessera-lab' });
    assert.deepEqual({ url: o.url, auth: o.auth }, { url: 'http://10.0.0.5:9696/v2.0/', auth: { kind: 'noauth', projectId: 'tessera-lab' } });
  });
  it('names the missing or bad key', () => {
    assert.throws(() => neutronOptionsFromSecret({ OS_AUTH_TYPE: 'noauth', OS_PROJECT_ID: 'p' }), (e: unknown) => e instanceof CredentialsError && /OS_ENDPOINT/.test(e.message));
    assert.throws(() => neutronOptionsFromSecret({ OS_AUTH_TYPE: 'noauth', OS_ENDPOINT: 'ftp://x', OS_PROJECT_ID: 'p' }), /OS_ENDPOINT must be an http:\/\/ or https:\/\/ URL/);
    assert.throws(() => neutronOptionsFromSecret({ OS_AUTH_TYPE: 'noauth', OS_ENDPOINT: 'http://x' }), /OS_PROJECT_ID/);
    assert.throws(() => neutronOptionsFromSecret({ OS_AUTH_TYPE: 'noauth', OS_ENDPOINT: 'http://x', OS_PROJECT_ID: 'a/b' }), /is not a project id/);
  });
});
