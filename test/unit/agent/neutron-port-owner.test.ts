// The agent's check that the Neutron port a pod names is the pod's own, from the port's SB Port_Binding: a VM's
// port, another pod's, a router's or a missing one is refused, naming what the port carries.
import assert from 'node:assert/strict';
import { portOwnerProblem, type PortOwnerRow } from '../../../agent/neutron-port-owner.js';

const PORT = '92d7ece2-2335-416c-b17d-61983e4eadcc';
const UID = '5c0e7d54-0f3c-4b52-9d63-3f8a8a0b1e11';
const row = (ids: Record<string, string>, type = ''): PortOwnerRow => ({ type, external_ids: { 'neutron:port_name': 'x', ...ids } });

describe('agent: the owner of a pod\'s Neutron port (Port_Binding external_ids)', () => {
  it('accepts the port the watcher made for this pod', () => {
    assert.equal(portOwnerProblem(PORT, row({ 'neutron:device_owner': 'tessera:pod', 'neutron:device_id': UID }), UID), undefined);
  });
  it('refuses a VM\'s port and another pod\'s port, naming their device_owner and device_id', () => {
    assert.equal(portOwnerProblem(PORT, row({ 'neutron:device_owner': 'compute:nova', 'neutron:device_id': 'a1b2' }), UID),
      `iface_id ${PORT} is not this pod's Neutron port: its device_owner is "compute:nova" and device_id "a1b2", not "tessera:pod" and the pod's uid ${UID}`);
    assert.match(portOwnerProblem(PORT, row({ 'neutron:device_owner': 'tessera:pod', 'neutron:device_id': 'other-uid' }), UID)!, /device_id "other-uid"/);
  });
  it('refuses a port with this uid but another device_owner, one without Neutron ids, and a uid-less pod', () => {
    assert.match(portOwnerProblem(PORT, row({ 'neutron:device_owner': 'compute:kuryr', 'neutron:device_id': UID }), UID)!, /device_owner is "compute:kuryr"/);
    assert.match(portOwnerProblem(PORT, row({}), UID)!, /device_owner is "" and device_id ""/);
    assert.match(portOwnerProblem(PORT, row({ 'neutron:device_owner': 'tessera:pod', 'neutron:device_id': '' }), '')!, /not this pod's/);
  });
  it('refuses a port that is no VIF (a localport, a router port) and one the Southbound database does not have', () => {
    assert.match(portOwnerProblem(PORT, row({ 'neutron:device_owner': 'tessera:pod', 'neutron:device_id': UID }, 'localport'), UID)!, /is an OVN "localport" port/);
    assert.equal(portOwnerProblem(PORT, undefined, UID), `iface_id ${PORT} names no port in the Southbound database`);
  });
  it('quotes and shortens what Neutron users wrote', () => {
    const p = portOwnerProblem(PORT, row({ 'neutron:device_owner': 'x"\n'.repeat(100), 'neutron:device_id': 'y' }), UID)!;
    assert.ok(!p.includes('\n'));
    assert.ok(p.length < 300);
  });
});
