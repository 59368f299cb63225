import { strict as assert } from 'node:assert';
import { ovnIcArgs, ovnIcEnv } from '../../../lib/ovnic/daemon.js';
import { interconnFlagChange, isInterconnGateway, IC_GATEWAY_LABEL } from '../../../lib/ovnic/gateway-flag.js';

describe('ovn-ic daemon argv and gateway flag', () => {
  it('hands ovn-ic every Raft member as one comma list per database, and its own pidfile/ctl/log', () => {
    const args = ovnIcArgs('/run/x', { nb: ['unix:/n.sock'], sb: ['unix:/s.sock'], icNb: ['tcp:10.0.0.1:6645', 'tcp:10.0.0.2:6645'], icSb: ['tcp:10.0.0.1:6646', 'tcp:10.0.0.2:6646'] });
    assert.ok(args.includes('--ic-nb-db=tcp:10.0.0.1:6645,tcp:10.0.0.2:6645'));
    assert.ok(args.includes('--ic-sb-db=tcp:10.0.0.1:6646,tcp:10.0.0.2:6646'));
    assert.ok(args.includes('--ovnnb-db=unix:/n.sock'));
    assert.ok(args.includes('--pidfile=/run/x/ovn-ic.pid') && args.includes('--unixctl=/run/x/ovn-ic.ctl') && args.includes('--log-file=/run/x/ovn-ic.log'));
    assert.ok(!args.includes('--detach'), 'runs as our child, not detached');
    assert.throws(() => ovnIcArgs('/run/x', { nb: [], sb: ['a'], icNb: ['b'], icSb: ['c'] }), /no nb remotes/);
    assert.equal(ovnIcEnv('/run/x').OVN_RUNDIR, '/run/x');
  });

  it('tells the agent what to write into Open_vSwitch external_ids', () => {
    assert.equal(isInterconnGateway({ [IC_GATEWAY_LABEL]: 'true' }), true);
    assert.deepEqual(interconnFlagChange({ [IC_GATEWAY_LABEL]: 'true' }, {}), { set: 'true' });
    assert.equal(interconnFlagChange({ [IC_GATEWAY_LABEL]: 'true' }, { 'ovn-is-interconn': 'true' }), undefined);
    assert.deepEqual(interconnFlagChange({}, { 'ovn-is-interconn': 'true' }), { remove: true });
    assert.equal(interconnFlagChange(undefined, {}), undefined);
  });
});

describe('gateway chassis priorities', () => {
  it('follow the gw-nodes order: the first node is preferred', async () => {
    const { gatewayPriorities } = await import('../../../lib/ovn/interconnect.js');
    assert.deepEqual(gatewayPriorities(['gw-a', 'gw-b', 'gw-c']), [
      { chassis: 'gw-a', priority: 100 }, { chassis: 'gw-b', priority: 99 }, { chassis: 'gw-c', priority: 98 },
    ]);
  });
});
