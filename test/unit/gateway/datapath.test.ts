import assert from 'node:assert/strict';
import { bridgeWithNicArgs, gatewayDatapathType } from '../../../gateway/ovs.js';

const datapathOf = (args: string[]): string | undefined => args.find((a) => a.startsWith('datapath_type='))?.split('=')[1];

describe('gateway bridge datapath (follows br-int)', () => {
  it('br-int on the userspace datapath: netdev', () => {
    assert.equal(gatewayDatapathType('netdev'), 'netdev');
    assert.equal(datapathOf(bridgeWithNicArgs('breth1', 'eth1', '02:00:00:00:00:01', gatewayDatapathType('netdev'))), 'netdev');
  });

  it('br-int on the kernel datapath ("system", or empty, which OVS reads as system): system', () => {
    assert.equal(gatewayDatapathType('system'), 'system');
    assert.equal(gatewayDatapathType(''), 'system');
    assert.equal(datapathOf(bridgeWithNicArgs('breth1', 'eth1', '02:00:00:00:00:01', gatewayDatapathType('system'))), 'system');
    assert.equal(datapathOf(bridgeWithNicArgs('breth1', 'eth1', '02:00:00:00:00:01', gatewayDatapathType(''))), 'system');
  });

  it('no br-int yet: ovn-controller\'s ovn-bridge-datapath-type hint decides, else system', () => {
    assert.equal(gatewayDatapathType(undefined, 'netdev'), 'netdev');
    assert.equal(gatewayDatapathType(undefined, 'system'), 'system');
    assert.equal(gatewayDatapathType(undefined, undefined), 'system');
    assert.equal(gatewayDatapathType('system', 'netdev'), 'system', 'an existing br-int wins over the hint');
  });
});
