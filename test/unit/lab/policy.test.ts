// The lab's policy model decides which report checks must connect and which must be refused; it must agree with
// Kubernetes semantics for the one shape the lab writes, and the object it sends must say the same.
import assert from 'node:assert/strict';
import { defaultPods } from '../../../lab/cluster.js';
import { DEFAULT_POLICY, networkPolicyObject, verdict } from '../../../lab/policy.js';

const pods = defaultPods(2);
const by = (name: string) => pods.find((p) => p.name === name)!;

describe('lab network policy model', () => {
  const pol = DEFAULT_POLICY(8080);

  it('isolates the web pods: only role=client gets in, on the allowed port only, never ICMP', () => {
    assert.deepEqual(verdict([pol], by('client'), by('web-1'), 8080), { policies: [pol], tcp: true, icmp: false });
    assert.equal(verdict([pol], by('web-2'), by('web-1'), 8080).tcp, false);
    assert.equal(verdict([pol], by('client'), by('web-1'), 9090).tcp, false);
  });

  it('leaves pods it does not select alone', () => {
    assert.deepEqual(verdict([pol], by('web-1'), by('client'), 8080), { policies: [], tcp: true, icmp: true });
    assert.deepEqual(verdict([], by('web-1'), by('web-2'), 8080), { policies: [], tcp: true, icmp: true });
  });

  it('allows only peers of the policy\'s namespace', () => {
    const other = { namespace: 'team', name: 'c', labels: { role: 'client' } };
    assert.equal(verdict([pol], other, by('web-1'), 8080).tcp, false);
  });

  it('the default pods carry the labels the policy names', () => {
    assert.equal(by('client').labels?.role, 'client');
    assert.ok(pods.filter((p) => p.labels?.app === 'web').length === 2);
  });

  it('writes the NetworkPolicy the model describes (ingress only; ipBlocks for the gateway\'s join CIDR)', () => {
    assert.deepEqual(networkPolicyObject(DEFAULT_POLICY(8080, ['100.64.0.0/16'])), {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web-allow-clients', namespace: 'default' },
      spec: {
        podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }, { ipBlock: { cidr: '100.64.0.0/16' } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
      },
    });
  });
});
