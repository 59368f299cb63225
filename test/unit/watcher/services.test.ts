import assert from 'node:assert/strict';
import type { V1Service, V1EndpointSlice } from '@kubernetes/client-node';
import { serviceLoadBalancers } from '../../../watcher/controllers/services.js';

const svc = (spec: V1Service['spec']): V1Service => ({ metadata: { namespace: 'ns', name: 's' }, spec });
const slice = (endpoints: Array<[string, boolean | undefined]>, ports: Array<{ name?: string; port: number; protocol?: string }>): V1EndpointSlice => ({
  addressType: 'IPv4', metadata: { namespace: 'ns', name: 's-1', labels: { 'kubernetes.io/service-name': 's' } },
  endpoints: endpoints.map(([ip, ready]) => ({ addresses: [ip], conditions: ready === undefined ? {} : { ready } })),
  ports,
});

describe('service → load balancer translation', () => {
  it('one LB per protocol; VIP per port; only ready endpoints (unset ready counts as ready); target port by name', () => {
    const lbs = serviceLoadBalancers(
      svc({ clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'https', port: 443, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }, { name: 'x', port: 9, protocol: 'SCTP' }] }),
      [slice([['10.244.1.3', true], ['10.244.2.3', undefined], ['10.244.3.3', false]], [{ name: 'http', port: 8080 }, { name: 'https', port: 8443 }, { name: 'dns', port: 5353, protocol: 'UDP' }])],
    );
    assert.deepEqual(lbs.map((l) => [l.name, l.protocol]), [['tessera_svc_ns/s_tcp', 'tcp'], ['tessera_svc_ns/s_udp', 'udp'], ['tessera_svc_ns/s_sctp', 'sctp']]);
    assert.deepEqual(lbs[0].vips, { '10.96.0.10:80': '10.244.1.3:8080,10.244.2.3:8080', '10.96.0.10:443': '10.244.1.3:8443,10.244.2.3:8443' });
    assert.deepEqual(lbs[1].vips, { '10.96.0.10:53': '10.244.1.3:5353,10.244.2.3:5353' });
    assert.deepEqual(lbs[2].vips, { '10.96.0.10:9': '' }, 'a port without endpoints has no backends');
    assert.ok(lbs.every((l) => l.options.reject === 'true' && l.selection_fields.length === 0 && !l.options.affinity_timeout));
    assert.equal(lbs[0].external_ids['tessera.io/object'], 'ns/s');
  });
  it('ClientIP affinity: ip_src selection and the configured (or default) timeout', () => {
    const [lb] = serviceLoadBalancers(svc({ clusterIP: '10.96.0.10', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 80 }] }), []);
    assert.deepEqual(lb.selection_fields, ['ip_src']);
    assert.equal(lb.options.affinity_timeout, '60');
    const [d] = serviceLoadBalancers(svc({ clusterIP: '10.96.0.10', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }), []);
    assert.equal(d.options.affinity_timeout, '10800');
  });
  it('headless, ExternalName and IP-less services get no LB; IPv6 VIPs are bracketed', () => {
    assert.deepEqual(serviceLoadBalancers(svc({ clusterIP: 'None', ports: [{ port: 80 }] }), []), []);
    assert.deepEqual(serviceLoadBalancers(svc({ type: 'ExternalName', externalName: 'x.example', ports: [{ port: 80 }] }), []), []);
    assert.deepEqual(serviceLoadBalancers(svc({ ports: [{ port: 80 }] }), []), []);
    const [v6] = serviceLoadBalancers(svc({ clusterIPs: ['fd00:96::10'], ports: [{ port: 80 }] }), [{ ...slice([], [{ port: 8080 }]), addressType: 'IPv6', endpoints: [{ addresses: ['fd00:244::3'] }] }]);
    assert.deepEqual(v6.vips, { '[fd00:96::10]:80': '[fd00:244::3]:8080' });
  });
});

import { macFromIP } from '../../../watcher/controllers/pods.js';
import { parseIP } from '../../../lib/ipnet/index.js';

describe('pod MAC', () => {
  it('is macFromIPv4 for IPv4 and the last four bytes for IPv6', () => {
    assert.equal(macFromIP(parseIP('10.244.1.5')), '0a:58:0a:f4:01:05');
    assert.equal(macFromIP(parseIP('fd00:10:244:1::a05')), '0a:58:00:00:0a:05');
  });
});
