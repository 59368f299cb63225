import { strict as assert } from 'node:assert';
import { planRoutes, isLinkLocal } from '../../../watcher/interconnect/routes.js';

const local = (...p: string[]) => p.map((prefix) => ({ prefix, source: `router port for ${prefix}` }));
const remote = (az: string, ...p: string[]) => p.map((prefix) => ({ az, prefix, nexthop: '169.254.100.7' }));

describe('interconnect route plan (ic-route-blacklist)', () => {
  it('denies nothing when prefixes are disjoint', () => {
    const p = planRoutes({ local: local('10.16.0.1/24', '100.64.0.1/16'), remote: remote('az2', '10.17.0.1/24', '100.65.0.1/16'), disabledSubnets: [], sticky: [] });
    assert.deepEqual(p, { denylist: [], overlaps: [] });
  });

  it('denies both sides of a local/remote overlap, in network form, and says who advertised it', () => {
    const p = planRoutes({ local: local('100.64.0.1/16', '10.16.0.1/24'), remote: remote('az2', '100.64.0.1/16', '10.17.0.1/24'), disabledSubnets: [], sticky: [] });
    assert.deepEqual(p.denylist, ['100.64.0.0/16']);
    assert.equal(p.overlaps.length, 1);
    assert.match(p.overlaps[0].message, /^local 100\.64\.0\.0\/16 \(router port for 100\.64\.0\.1\/16\) overlaps 100\.64\.0\.0\/16 advertised by AZ az2/);
  });

  it('catches partial overlaps (a remote /16 over a local /24) and host routes without a length', () => {
    const p = planRoutes({ local: local('10.16.5.1/24'), remote: [...remote('az2', '10.16.0.0/16'), ...remote('az3', '192.168.9.9')], disabledSubnets: [], sticky: [] });
    assert.deepEqual(p.denylist, ['10.16.0.0/16', '10.16.5.0/24']);
    const q = planRoutes({ local: local('192.168.9.0/24'), remote: remote('az3', '192.168.9.9'), disabledSubnets: [], sticky: [] });
    assert.deepEqual(q.denylist, ['192.168.9.0/24', '192.168.9.9/32']);
  });

  it('reports overlaps between two other AZs too', () => {
    const p = planRoutes({ local: [], remote: [...remote('az2', '10.30.0.0/16'), ...remote('az3', '10.30.1.0/24'), ...remote('az3', '10.31.0.0/24')], disabledSubnets: [], sticky: [] });
    assert.deepEqual(p.denylist, ['10.30.0.0/16', '10.30.1.0/24']);
    assert.match(p.overlaps[0].message, /advertised by AZ az2 overlaps 10\.30\.1\.0\/24 advertised by AZ az3/);
  });

  it('puts disabled subnets on the list and does not count them as overlaps', () => {
    const p = planRoutes({ local: local('10.199.0.1/16'), remote: remote('az2', '10.199.0.0/16'), disabledSubnets: ['10.199.0.0/16'], sticky: [] });
    assert.deepEqual(p.denylist, ['10.199.0.0/16']);
    assert.deepEqual(p.overlaps, []);
  });

  it('keeps sticky overlaps (the peer withdrew its side) without reporting them again', () => {
    const p = planRoutes({ local: local('100.64.0.1/16'), remote: [], disabledSubnets: [], sticky: ['100.64.0.0/16'] });
    assert.deepEqual(p, { denylist: ['100.64.0.0/16'], overlaps: [] });
    const again = planRoutes({ local: local('100.64.0.1/16'), remote: remote('az2', '100.64.0.0/16'), disabledSubnets: [], sticky: ['100.64.0.0/16'] });
    assert.deepEqual(again.overlaps, []);
  });

  it('ignores link-local prefixes (the ts subnet), as ovn-ic does', () => {
    assert.equal(isLinkLocal('169.254.100.5/24'), true);
    assert.equal(isLinkLocal('fe80::1/64'), true);
    assert.equal(isLinkLocal('10.0.0.0/8'), false);
    const p = planRoutes({ local: local('169.254.100.5/24'), remote: remote('az2', '169.254.100.7/24'), disabledSubnets: [], sticky: [] });
    assert.deepEqual(p.denylist, []);
  });
});
