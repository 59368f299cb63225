import { strict as assert } from 'node:assert';
import { deriveTsPortAddress, preferredOffset, addressAtOffset, ipsOfPortAddress, yieldsTo } from '../../../lib/ovn/interconnect.js';
import { tsRouterPort, tsSwitchPort } from '../../../lib/ovn/names.js';

describe('interconnect ts port address', () => {
  it('is stable per AZ name, inside 169.254.100.1-254, with a MAC derived from the IP', () => {
    const a = deriveTsPortAddress('az1', []);
    assert.deepEqual(deriveTsPortAddress('az1', []), a);
    assert.match(a.ip, /^169\.254\.100\.(\d+)$/);
    const last = Number(a.ip.split('.')[3]);
    assert.ok(last >= 1 && last <= 254);
    assert.equal(a.cidr, `${a.ip}/24`);
    assert.equal(a.mac, `0a:58:a9:fe:64:${last.toString(16).padStart(2, '0')}`);
  });

  it('spreads different AZ names over the range', () => {
    const offs = new Set(Array.from({ length: 50 }, (_, i) => preferredOffset(`az${i}`)));
    assert.ok(offs.size > 40, `only ${offs.size} distinct offsets for 50 names`);
  });

  it('skips addresses other AZs hold and wraps past .254', () => {
    const want = deriveTsPortAddress('az1', []);
    const next = deriveTsPortAddress('az1', [want.ip]);
    assert.notEqual(next.ip, want.ip);
    const all = Array.from({ length: 254 }, (_, i) => addressAtOffset(i + 1).ip);
    const onlyFree = all.filter((ip) => ip !== '169.254.100.1');
    assert.equal(deriveTsPortAddress('az1', onlyFree).ip, '169.254.100.1');
    assert.throws(() => deriveTsPortAddress('az1', all), /no free address left in 169\.254\.100\.0\/24 for AZ "az1"/);
    assert.throws(() => addressAtOffset(0), /outside/);
  });

  it('reads IPs out of IC-SB Port_Binding addresses', () => {
    assert.deepEqual(ipsOfPortAddress('00:00:00:50:AC:8C 169.254.100.45/24'), ['169.254.100.45']);
    assert.deepEqual(ipsOfPortAddress('0a:58:a9:fe:64:01 169.254.100.1/24 fd00::1/64'), ['169.254.100.1']);
    assert.deepEqual(ipsOfPortAddress('router'), []);
  });

  it('settles collisions deterministically and uses the documented port names', () => {
    assert.equal(yieldsTo('az2', 'az1'), true);
    assert.equal(yieldsTo('az1', 'az2'), false);
    assert.equal(tsRouterPort('az1'), 'az1-ts');
    assert.equal(tsSwitchPort('az1'), 'ts-az1');
  });

  it('derives per transit switch: unchanged on ts, another preferred address on another ts, ports named <az>-<ts> / <ts>-<az>', () => {
    assert.equal(preferredOffset('op-az', 'ts'), preferredOffset('op-az'));
    assert.deepEqual(deriveTsPortAddress('op-az', [], 'ts'), deriveTsPortAddress('op-az', []));
    const onB = deriveTsPortAddress('op-az', [], 'ts-b');
    assert.notEqual(onB.ip, deriveTsPortAddress('op-az', []).ip, 'one AZ\'s ports on two transit switches share an address');
    assert.deepEqual(deriveTsPortAddress('op-az', [], 'ts-b'), onB, 'stable');
    assert.notEqual(deriveTsPortAddress('op-az', [onB.ip], 'ts-b').ip, onB.ip, 'skips what another AZ holds on that ts');
    assert.throws(() => deriveTsPortAddress('az1', Array.from({ length: 254 }, (_, i) => addressAtOffset(i + 1).ip), 'ts-b'), /on transit switch ts-b/);
    assert.equal(tsRouterPort('op-az', 'ts-b'), 'op-az-ts-b');
    assert.equal(tsSwitchPort('op-az', 'ts-b'), 'ts-b-op-az');
    assert.equal(tsRouterPort('op-az', 'ts'), tsRouterPort('op-az'));
  });
});

