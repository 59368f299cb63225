import assert from 'node:assert/strict';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { gatewayLbs } from '../../../gateway/services.js';

const svc = (name: string, spec: V1Service['spec'], status?: V1Service['status']): V1Service => ({ metadata: { name, namespace: 'ns' }, spec, ...(status ? { status } : {}) });
const slice = (svcName: string, eps: Array<{ ip: string; node: string; ready?: boolean }>, port = 8080, portName?: string): V1EndpointSlice => ({
  metadata: { name: `${svcName}-x`, namespace: 'ns', labels: { 'kubernetes.io/service-name': svcName } },
  addressType: 'IPv4',
  endpoints: eps.map((e) => ({ addresses: [e.ip], nodeName: e.node, conditions: { ready: e.ready ?? true } })),
  ports: [{ port, protocol: 'TCP', ...(portName ? { name: portName } : {}) }],
});
const o = { node: 'n1', physicalIp: '192.168.1.10' };

describe('gateway services → GR load balancers', () => {
  it('NodePort: <physical-ip>:<nodePort> → ready endpoints, and the node port is handed to the bridge', () => {
    const { lbs, external } = gatewayLbs(
      [svc('web', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] })],
      [slice('web', [{ ip: '10.244.1.5', node: 'n1' }, { ip: '10.244.2.5', node: 'n2' }, { ip: '10.244.2.6', node: 'n2', ready: false }])],
      o,
    );
    assert.equal(lbs.length, 1);
    assert.equal(lbs[0]!.name, 'gw_n1_ns_web_tcp');
    assert.deepEqual(lbs[0]!.vips, { '192.168.1.10:30080': '10.244.1.5:8080,10.244.2.5:8080' });
    assert.deepEqual(lbs[0]!.options, { reject: 'true' });
    assert.deepEqual(external.nodePorts, [{ protocol: 'tcp', port: 30080 }]);
  });

  it('LoadBalancer: ingress IPs and externalIPs on the service port; ETP=Local keeps only local endpoints and skips SNAT', () => {
    const { lbs, external } = gatewayLbs(
      [svc('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', externalIPs: ['192.168.9.9'], ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] },
        { loadBalancer: { ingress: [{ ip: '192.168.9.1' }, { hostname: 'lb.example' }] } })],
      [slice('lb', [{ ip: '10.244.1.5', node: 'n1' }, { ip: '10.244.2.5', node: 'n2' }])],
      o,
    );
    assert.deepEqual(lbs[0]!.vips, {
      '192.168.1.10:31443': '10.244.1.5:8080', '192.168.9.9:443': '10.244.1.5:8080', '192.168.9.1:443': '10.244.1.5:8080',
    });
    assert.equal(lbs[0]!.options.skip_snat, 'true');
    assert.deepEqual(external.vips, ['192.168.9.1', '192.168.9.9']);
  });

  it('ETP=Local without a local endpoint still programs the VIP, empty, so it is rejected rather than forwarded', () => {
    const { lbs } = gatewayLbs([svc('lb', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30001 }] })],
      [slice('lb', [{ ip: '10.244.2.5', node: 'n2' }])], o);
    assert.deepEqual(lbs[0]!.vips, { '192.168.1.10:30001': '' });
  });

  it('sessionAffinity ClientIP becomes affinity_timeout (default 3 h, capped at 65535 s)', () => {
    const { lbs } = gatewayLbs([
      svc('a', { type: 'NodePort', sessionAffinity: 'ClientIP', ports: [{ port: 80, nodePort: 30002 }] }),
      svc('b', { type: 'NodePort', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86400 } }, ports: [{ port: 80, nodePort: 30003 }] }),
    ], [], o);
    assert.deepEqual(lbs.map((l) => l.options.affinity_timeout), ['10800', '65535']);
  });

  it('one LB per protocol; named ports pick the slice port of the same name; ClusterIP without externalIPs is not exposed', () => {
    const { lbs } = gatewayLbs([
      svc('dns', { type: 'NodePort', ports: [{ name: 'udp', port: 53, nodePort: 30053, protocol: 'UDP' }, { name: 'tcp', port: 53, nodePort: 30054, protocol: 'TCP' }] }),
      svc('internal', { type: 'ClusterIP', ports: [{ port: 80 }] }),
    ], [slice('dns', [{ ip: '10.244.1.7', node: 'n1' }], 5353, 'udp'), slice('dns', [{ ip: '10.244.1.7', node: 'n1' }], 5354, 'tcp')], o);
    assert.deepEqual(lbs.map((l) => [l.name, l.protocol, l.vips]), [
      ['gw_n1_ns_dns_tcp', 'tcp', { '192.168.1.10:30054': '10.244.1.7:5354' }],
      ['gw_n1_ns_dns_udp', 'udp', { '192.168.1.10:30053': '10.244.1.7:5353' }],
    ]);
  });
});
