import assert from 'node:assert/strict';
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import {
  translatePolicy, policyTypes, ruleAddressSet, PolicyError, DENY_PRIORITY, ALLOW_PRIORITY,
  type PodInfo, type PolicyView, type NamespaceInfo,
} from '../../../watcher/policy/translate.js';
import { matchesSelector } from '../../../watcher/policy/selector.js';
import { MGMT_ADDRESS_SET } from '../../../lib/ovn/names.js';

const pod = (namespace: string, name: string, ip: string, labels: Record<string, string>, ports: PodInfo['ports'] = []): PodInfo => ({ namespace, name, labels, ips: [ip], ports });
const pods = [
  pod('prod', 'web', '10.244.1.3', { app: 'web' }, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]),
  pod('prod', 'web2', '10.244.2.3', { app: 'web' }, [{ name: 'http', containerPort: 9090, protocol: 'TCP' }]),
  pod('prod', 'db', '10.244.1.4', { app: 'db' }),
  pod('dev', 'client', '10.244.2.4', { app: 'client' }),
  pod('dev', 'web', '10.244.2.5', { app: 'web' }),
];
const namespaces: NamespaceInfo[] = [{ name: 'prod', labels: { env: 'prod' } }, { name: 'dev', labels: { env: 'dev' } }];
const view: PolicyView = {
  podsIn: (ns) => pods.filter((p) => p.namespace === ns),
  namespaces: () => namespaces,
  podsWithPortName: (n) => pods.filter((p) => p.ports.some((c) => c.name === n)),
};
const np = (spec: V1NetworkPolicy['spec'], name = 'p'): V1NetworkPolicy => ({ metadata: { namespace: 'prod', name }, spec });
const t = (spec: V1NetworkPolicy['spec']) => translatePolicy(np(spec), view, { family: 4 });
const ruleAcls = (plan: ReturnType<typeof t>) => plan.acls.filter((a) => /^[0-9]+$/.test(a.external_ids['tessera.io/rule'] ?? ''));

describe('network policy translation', () => {
  it('selectors: matchLabels and every matchExpressions operator', () => {
    assert.ok(matchesSelector({}, { a: '1' }));
    assert.ok(matchesSelector({ matchLabels: { a: '1' } }, { a: '1', b: '2' }));
    assert.ok(!matchesSelector({ matchLabels: { a: '1' } }, { a: '2' }));
    assert.ok(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] }, { a: '2' }));
    assert.ok(!matchesSelector({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, { a: '1' }));
    assert.ok(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, {}));
    assert.ok(!matchesSelector({ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, {}));
    assert.ok(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, { b: '1' }));
  });

  it('policyTypes default: Ingress always, Egress only with egress rules', () => {
    assert.deepEqual(policyTypes(np({ podSelector: {} })), { ingress: true, egress: false });
    assert.deepEqual(policyTypes(np({ podSelector: {}, egress: [{}] })), { ingress: true, egress: true });
    assert.deepEqual(policyTypes(np({ podSelector: {}, policyTypes: ['Egress'] })), { ingress: false, egress: true });
  });

  it('deny-all ingress: selected pods isolated, ARP/ND and management port allowed, nothing else', () => {
    const plan = t({ podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] });
    assert.deepEqual(plan.selected.map((p) => p.name).sort(), ['web', 'web2']);
    const pg = plan.portGroup;
    assert.match(pg, /^tessera_np_[0-9a-f]{16}$/);
    assert.deepEqual(plan.acls.map((a) => [a.direction, a.priority, a.action, a.match]), [
      ['to-lport', DENY_PRIORITY, 'drop', `outport == @${pg} && ip`],
      ['to-lport', ALLOW_PRIORITY, 'allow', `outport == @${pg} && (arp || nd)`],
      ['to-lport', ALLOW_PRIORITY, 'allow-related', `outport == @${pg} && ip4.src == $${MGMT_ADDRESS_SET}`],
    ]);
    assert.equal(ruleAcls(plan).length, 0);
  });

  it('an empty rule allows everything to the selected pods', () => {
    const plan = t({ podSelector: {}, ingress: [{}] });
    assert.deepEqual(ruleAcls(plan).map((a) => a.match), [`outport == @${plan.portGroup} && ip`]);
    assert.equal(ruleAcls(plan)[0].action, 'allow-related');
  });

  it('podSelector peers (same namespace only) become an address set', () => {
    const plan = t({ podSelector: { matchLabels: { app: 'db' } }, ingress: [{ _from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] });
    const as = ruleAddressSet('prod/p', 'ingress', 0);
    assert.deepEqual(plan.addressSets.map(({ name, addresses }) => ({ name, addresses })), [{ name: as, addresses: ['10.244.1.3', '10.244.2.3'] }]);
    assert.deepEqual(ruleAcls(plan).map((a) => a.match), [`outport == @${plan.portGroup} && ip && ip4.src == $${as}`]);
  });

  it('namespaceSelector alone selects all pods there; combined with podSelector it intersects', () => {
    const alone = t({ podSelector: {}, ingress: [{ _from: [{ namespaceSelector: { matchLabels: { env: 'dev' } } }] }] });
    assert.deepEqual(alone.addressSets[0].addresses, ['10.244.2.4', '10.244.2.5']);
    assert.equal(alone.watchesAllNamespaces, true);
    const both = t({ podSelector: {}, ingress: [{ _from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'web' } } }] }] });
    assert.deepEqual(both.addressSets[0].addresses, ['10.244.1.3', '10.244.2.3', '10.244.2.5']);
    const two = t({ podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { env: 'dev' } } }, { podSelector: { matchLabels: { app: 'db' } } }] } as never] });
    assert.deepEqual(two.addressSets[0].addresses, ['10.244.1.4', '10.244.2.4', '10.244.2.5'], 'raw JSON `from` is read too; peers are OR-ed');
  });

  it('ipBlock with except, OR-ed with pod peers, and rejects bad blocks', () => {
    const plan = t({ podSelector: {}, ingress: [{ _from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }, { podSelector: {} }] }] });
    const as = ruleAddressSet('prod/p', 'ingress', 0);
    assert.equal(ruleAcls(plan)[0].match, `outport == @${plan.portGroup} && ip && ((ip4.src == 172.17.0.0/16 && ip4.src != {172.17.1.0/24}) || ip4.src == $${as})`);
    assert.throws(() => t({ podSelector: {}, ingress: [{ _from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['10.0.0.0/8'] } }] }] }), (e: Error) => e instanceof PolicyError && /spec.ingress\[0\].from\[0\]: ipBlock.except 10.0.0.0\/8 is not inside/.test(e.message));
    assert.throws(() => t({ podSelector: {}, ingress: [{ _from: [{ ipBlock: { cidr: 'nope' } }] }] }), /ipBlock.cidr not a CIDR/);
  });

  it('ports: protocol only, number, range (endPort), and protocol names', () => {
    const plan = t({ podSelector: {}, ingress: [{ ports: [{ protocol: 'UDP' }, { port: 53 }, { protocol: 'SCTP', port: 1000, endPort: 1010 }] }] });
    assert.equal(ruleAcls(plan)[0].match, `outport == @${plan.portGroup} && ip && (udp || tcp.dst == 53 || (sctp.dst >= 1000 && sctp.dst <= 1010))`);
    assert.throws(() => t({ podSelector: {}, ingress: [{ ports: [{ port: 80, endPort: 79 }] }] }), /endPort 79 must be within 80..65535/);
    assert.throws(() => t({ podSelector: {}, ingress: [{ ports: [{ protocol: 'ICMP', port: 1 }] }] }), /unsupported protocol "ICMP"/);
  });

  it('ingress named ports resolve per selected pod', () => {
    const plan = t({ podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 'http' }] }] });
    assert.equal(ruleAcls(plan)[0].match, `outport == @${plan.portGroup} && ip && ((ip4.dst == {10.244.1.3} && tcp.dst == 8080) || (ip4.dst == {10.244.2.3} && tcp.dst == 9090))`);
    const none = t({ podSelector: { matchLabels: { app: 'db' } }, ingress: [{ ports: [{ port: 'http' }] }] });
    assert.equal(ruleAcls(none).length, 0, 'a named port no selected pod has allows nothing');
  });

  it('egress: from-lport after LB, peers by destination, named ports resolve on peers', () => {
    const plan = t({ podSelector: { matchLabels: { app: 'db' } }, egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 'http' }] }] });
    assert.deepEqual(policyTypes(np(plan ? { podSelector: {}, egress: [{}] } : undefined)), { ingress: true, egress: true });
    const eg = plan.acls.filter((a) => a.direction === 'from-lport');
    assert.ok(eg.every((a) => a.options?.['apply-after-lb'] === 'true'));
    assert.deepEqual(eg.map((a) => [a.priority, a.action]), [[DENY_PRIORITY, 'drop'], [ALLOW_PRIORITY, 'allow'], [ALLOW_PRIORITY, 'allow-related']]);
    const as = ruleAddressSet('prod/p', 'egress', 0);
    assert.equal(eg[2].match, `inport == @${plan.portGroup} && ip && ip4.dst == $${as} && ((ip4.dst == {10.244.1.3} && tcp.dst == 8080) || (ip4.dst == {10.244.2.3} && tcp.dst == 9090))`);
    assert.ok(!eg.some((a) => a.match.includes(MGMT_ADDRESS_SET)), 'management allow is an ingress thing');
    // Ingress is isolated too (policyTypes defaulted), with no ingress rules.
    assert.equal(plan.acls.filter((a) => a.direction === 'to-lport' && a.action === 'allow-related' && a.external_ids['tessera.io/rule'] !== 'management').length, 0);
  });

  it('egress named ports with no `to` resolve across the cluster', () => {
    const plan = t({ podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] });
    assert.equal(ruleAcls(plan)[0].match, `inport == @${plan.portGroup} && ip && ((ip4.dst == {10.244.1.3} && tcp.dst == 8080) || (ip4.dst == {10.244.2.3} && tcp.dst == 9090))`);
    assert.equal(plan.acls.some((a) => a.direction === 'to-lport'), false);
  });

  it('refuses peers without any selector and bad selector operators', () => {
    assert.throws(() => t({ podSelector: {}, ingress: [{ _from: [{}] }] }), /from\[0\]: a peer needs podSelector, namespaceSelector or ipBlock/);
    assert.throws(() => t({ podSelector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } }), /spec.podSelector: unknown operator "Near"/);
  });
});
