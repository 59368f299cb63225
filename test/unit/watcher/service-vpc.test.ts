import assert from 'node:assert/strict';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { serviceHome, vpcSwitches } from '../../../watcher/controllers/service-vpc.js';
import type { NbRow } from '../../../lib/ovn/txn.js';

const ls = (name: string, ids: Record<string, string>) => ({ _uuid: `u-${name}`, name, external_ids: ids, other_config: {}, ports: [], acls: [], load_balancer: [], load_balancer_group: [] }) as unknown as NbRow<'Logical_Switch'>;
const sub = (name: string, vpc: string) => ls(name, { 'tessera.io/owner': 'tessera-watcher', 'tessera.io/kind': 'subnet', 'tessera.io/object': name, 'tessera.io/vpc': vpc });
const switches = [sub('sa', 'vpc-a'), sub('sa2', 'vpc-a'), sub('sb', 'vpc-b'), sub('sd', 'ovn-cluster'), ls('n1', { 'tessera.io/owner': 'tessera-watcher', 'tessera.io/kind': 'node' })];
const held: Record<string, { ls: string; ip: string }> = {
  'ns/a1': { ls: 'sa', ip: '10.50.0.2' }, 'ns/a2': { ls: 'sa2', ip: '10.51.0.2' }, 'ns/b1': { ls: 'sb', ip: '10.50.0.2' },
  'ns/d1': { ls: 'n1', ip: '10.244.1.5' }, 'ns/d2': { ls: 'sd', ip: '10.70.0.5' },
};
const view = { holding: (k: string) => held[k], switches: () => switches };
const slice = (...pods: Array<[string, string]>): V1EndpointSlice => ({
  addressType: 'IPv4', metadata: { namespace: 'ns' },
  endpoints: pods.map(([name, ip]) => ({ addresses: [ip], targetRef: { kind: 'Pod', name, namespace: 'ns' } })),
});

describe('watcher: which Vpc serves a Service', () => {
  it('all endpoints in one custom Vpc (any of its Subnets): that Vpc', () => {
    assert.deepEqual(serviceHome([slice(['a1', '10.50.0.2']), slice(['a2', '10.51.0.2'])], view), { vpc: 'vpc-a' });
    assert.deepEqual(vpcSwitches(switches, 'vpc-a').map((s) => s.name), ['sa', 'sa2']);
  });

  it('default-network endpoints (node switches, default-Vpc Subnets) or none: the default Vpc', () => {
    assert.deepEqual(serviceHome([slice(['d1', '10.244.1.5'], ['d2', '10.70.0.5'])], view), {});
    assert.deepEqual(serviceHome([], view), {});
  });

  it('endpoints in two Vpcs, or a custom one and the default network: the default Vpc, with the problem said', () => {
    assert.match(serviceHome([slice(['a1', '10.50.0.2'], ['b1', '10.50.0.2'])], view).problem ?? '', /endpoints span Vpcs vpc-a, vpc-b/);
    const mixed = serviceHome([slice(['a1', '10.50.0.2'], ['d1', '10.244.1.5'])], view);
    assert.equal(mixed.vpc, undefined);
    assert.match(mixed.problem ?? '', /ovn-cluster, vpc-a/);
  });

  it('an endpoint claiming a pod whose address it does not hold counts as the default network', () => {
    assert.equal(serviceHome([slice(['a1', '10.50.0.9'])], view).vpc, undefined);
    assert.equal(serviceHome([{ addressType: 'IPv4', endpoints: [{ addresses: ['10.50.0.2'] }] }], view).vpc, undefined, 'no targetRef');
  });
});
