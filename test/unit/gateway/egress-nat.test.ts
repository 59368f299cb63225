import assert from 'node:assert/strict';
import { egressNats, subtract } from '../../../gateway/egress-nat.js';
import { formatCIDR, parseCIDR } from '../../../lib/ipnet/index.js';

describe('gateway egress NAT policy', () => {
  const o = { node: 'n1', clusterSubnet: '10.244.0.0/16', physicalIp: '192.168.1.10' };

  it('SNATs the whole cluster CIDR by default', () => {
    assert.deepEqual(egressNats({ exempt: [] }, o).map((n) => n.logical_ip), ['10.244.0.0/16']);
  });

  it('leaves exempt subnets out by splitting the cluster CIDR around them', () => {
    const nets = egressNats({ exempt: ['10.244.3.0/24'] }, o).map((n) => n.logical_ip);
    assert.equal(nets.length, 8);
    assert.ok(!nets.includes('10.244.3.0/24'));
    assert.ok(nets.includes('10.244.128.0/17') && nets.includes('10.244.2.0/24') && nets.includes('10.244.0.0/23'));
    // Together they cover exactly 2^16 - 2^8 addresses.
    const total = nets.map((n) => 2 ** (32 - Number(n.split('/')[1]))).reduce((a, b) => a + b, 0);
    assert.equal(total, 65536 - 256);
  });

  it('has nothing to SNAT when the exemption covers the whole cluster', () => {
    assert.deepEqual(subtract(parseCIDR('10.244.0.0/16'), [parseCIDR('10.0.0.0/8')]), []);
  });

  it('ignores exemptions outside the cluster CIDR', () => {
    assert.deepEqual(subtract(parseCIDR('10.244.0.0/16'), [parseCIDR('192.168.0.0/16')]).map(formatCIDR), ['10.244.0.0/16']);
  });
});
