import assert from 'node:assert/strict';
import { bridgeFlows, CT_ZONE } from '../../../gateway/flows.js';

const external = { nodePorts: [{ protocol: 'tcp' as const, port: 30080 }], vips: ['192.168.9.1', '192.168.1.10'] };
const strip = (fs: string[]): string[] => fs.map((f) => f.replace(/^cookie=[^,]+,/, ''));

describe('gateway bridge flows', () => {
  it('dedicated NIC: a plain learning switch', () => {
    assert.deepEqual(strip(bridgeFlows({ mode: 'dedicated', nicOfport: 1, hostIp: '192.168.1.10', external })), ['table=0,priority=0,actions=NORMAL']);
  });

  it('shared NIC before the patch port exists: host traffic only', () => {
    const f = strip(bridgeFlows({ mode: 'shared', nicOfport: 1, hostIp: '192.168.1.10', external }));
    assert.deepEqual(f, ['table=0,priority=10,in_port=1,actions=LOCAL', 'table=0,priority=10,in_port=LOCAL,actions=output:1', 'table=0,priority=0,actions=drop']);
  });

  it('shared NIC: GR traffic committed to its zone, replies and services to the GR, the rest to the host', () => {
    const f = strip(bridgeFlows({ mode: 'shared', nicOfport: 1, patchOfport: 3, hostIp: '192.168.1.10', external }));
    assert.ok(f.includes(`table=0,priority=100,in_port=3,ip,actions=ct(commit,zone=${CT_ZONE}),output:1`));
    assert.ok(f.includes('table=0,priority=100,in_port=1,arp,actions=LOCAL,output:3'));
    assert.ok(f.includes(`table=0,priority=50,in_port=1,ip,actions=ct(zone=${CT_ZONE},table=1)`));
    assert.ok(f.includes('table=1,priority=100,ct_state=+trk+est,ip,actions=output:3'));
    assert.ok(f.includes('table=1,priority=0,actions=LOCAL'));
    assert.ok(f.includes('table=0,priority=95,in_port=1,udp,nw_dst=192.168.1.10,tp_dst=6081,actions=LOCAL'), 'Geneve bypasses conntrack');
    assert.ok(f.includes('table=0,priority=90,in_port=1,tcp,nw_dst=192.168.1.10,tp_dst=30080,actions=output:3'));
    assert.ok(f.includes('table=0,priority=90,in_port=1,ip,nw_dst=192.168.9.1,actions=output:3'));
    assert.ok(!f.some((x) => x.includes('nw_dst=192.168.1.10,actions=output:3')), 'the host IP itself is never a VIP flow');
  });
});
