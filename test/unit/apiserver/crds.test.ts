// The test double serves Vpc and Subnet with the schema of deploy/crds/: defaults, pruning, types and enums
// through ajv, and the CRDs' CEL rules (cel-rules.ts); the seed's net2 manifest is accepted.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { findResource, type KubeObject } from '../../../kube-double/resources.js';
import { Store } from '../../../kube-double/store.js';
import { ApiError } from '../../../kube-double/status.js';
import { customKinds } from '../../../kube-double/crds.js';
import { CEL_RULES } from '../../../kube-double/cel-rules.js';

const SUBNETS = findResource('kubeovn.io', 'v1', 'subnets')!;
const VPCS = findResource('kubeovn.io', 'v1', 'vpcs')!;
const causes = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError && e.code === 422, String(e));
    return (e.details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);
  }
  assert.fail('accepted');
};

describe('apiserver custom resources from deploy/crds', () => {
  it('loads both CRDs with every CEL rule known and the printer columns', () => {
    const kinds = customKinds();
    assert.deepEqual(kinds.map((k) => k.kind).sort(), ['Subnet', 'Vpc']);
    for (const k of kinds) for (const c of k.cel) assert.ok(CEL_RULES[c.rule], c.rule);
    assert.deepEqual(kinds.find((k) => k.kind === 'Vpc')!.columns.map((c) => c.name.toUpperCase()), ['STANDBY', 'SUBNETS']);
    const sub = kinds.find((k) => k.kind === 'Subnet')!.columns.map((c) => c.name.toUpperCase());
    for (const c of ['PROVIDER', 'VPC', 'PROTOCOL', 'CIDR', 'PRIVATE', 'NAT', 'DEFAULT', 'GATEWAYTYPE', 'V4USED', 'V4AVAILABLE', 'EXCLUDEIPS']) assert.ok(sub.includes(c), c);
  });

  it('defaults and prunes a Subnet as the CRD says', () => {
    const s = new Store();
    const o = s.create(SUBNETS, undefined, { metadata: { name: 'a' }, spec: { cidrBlock: '10.1.0.0/24', unknownField: 1 } });
    assert.deepEqual(o.spec, { cidrBlock: '10.1.0.0/24', default: false, vpc: 'ovn-cluster', protocol: 'IPv4', provider: 'ovn', gatewayType: 'distributed', natOutgoing: false, private: false, disableInterConnection: false });
  });

  it('refuses bad CIDRs, a gateway or excludeIps outside the CIDR, a protocol mismatch, bad types and a vpc change', () => {
    const s = new Store();
    const mk = (name: string, spec: Record<string, unknown>) => () => s.create(SUBNETS, undefined, { metadata: { name }, spec });
    assert.deepEqual(causes(mk('b1', { cidrBlock: '10.1.0.1/24' })), ['spec.cidrBlock: Invalid value: cidrBlock must be a network address in CIDR form, e.g. 10.0.1.0/24']);
    assert.deepEqual(causes(mk('b2', { cidrBlock: '10.1.0.0/24', gateway: '10.2.0.1' })), ['spec: Invalid value: gateway must be inside cidrBlock']);
    assert.deepEqual(causes(mk('b3', { cidrBlock: '10.1.0.0/24', excludeIps: ['10.1.0.5..10.1.1.1'] })), ['spec: Invalid value: every excludeIps address must be inside cidrBlock']);
    assert.deepEqual(causes(mk('b4', { cidrBlock: '10.1.0.0/24', excludeIps: ['10.1.0.5-10.1.0.9'] })), ['spec.excludeIps[0]: Invalid value: an excludeIps entry is an IP address or a range a..b']);
    assert.deepEqual(causes(mk('b5', { cidrBlock: '10.1.0.0/24', protocol: 'IPv6' })), ['spec: Invalid value: protocol must match the family of cidrBlock']);
    assert.match(causes(mk('b6', { cidrBlock: '10.1.0.0/24', private: 'yes' }))[0], /^spec\.private: Invalid value: must be boolean/);
    assert.match(causes(mk('b7', { vpc: 'x' }))[0], /^spec\.cidrBlock: Invalid value: must have required property/);
    s.create(SUBNETS, undefined, { metadata: { name: 'ok' }, spec: { cidrBlock: '10.1.0.0/24', vpc: 'v1' } });
    assert.deepEqual(causes(() => s.patch(SUBNETS, undefined, 'ok', 'merge', { spec: { vpc: 'v2' } })), ['spec: Invalid value: vpc is immutable']);
    // status goes through the status schema too
    assert.match(causes(() => s.patch(SUBNETS, undefined, 'ok', 'merge', { status: { v4usingIPs: 'many' } }, 'status'))[0], /^status\.v4usingIPs: Invalid value: must be number/);
  });

  it('checks Vpc routes: enum, CIDR, next hop, reroute needs nextHopIP', () => {
    const s = new Store();
    const mk = (spec: Record<string, unknown>) => () => s.create(VPCS, undefined, { metadata: { name: 'v' }, spec });
    assert.match(causes(mk({ staticRoutes: [{ cidr: '0.0.0.0/0', nextHopIP: '10.0.0.1', policy: 'dst' }] }))[0], /policy: Invalid value: must be equal to one of the allowed values/);
    assert.deepEqual(causes(mk({ staticRoutes: [{ cidr: 'x', nextHopIP: '10.0.0.1' }] })), ['spec.staticRoutes[0].cidr: Invalid value: cidr must be a network in CIDR form, e.g. 10.0.0.0/8']);
    assert.deepEqual(causes(mk({ policyRoutes: [{ priority: 1, match: 'ip4', action: 'reroute' }] })), ['spec.policyRoutes[0]: Invalid value: a reroute policy needs nextHopIP, an IP address']);
    const v = s.create(VPCS, undefined, { metadata: { name: 'v' }, spec: { staticRoutes: [{ cidr: '0.0.0.0/0', nextHopIP: '10.0.0.1' }] } }) as KubeObject & { spec: { staticRoutes: Array<{ policy: string }> } };
    assert.equal(v.spec.staticRoutes[0].policy, 'policyDst');
  });

  it("accepts the seed's net2 Vpc and Subnet as written (less the server-set metadata a create may not carry)", () => {
    const s = new Store();
    const docs = yaml.loadAll(readFileSync(new URL('../../fixtures/kubeovn/seed-net2.yaml', import.meta.url), 'utf8')) as KubeObject[];
    for (const d of docs.filter((x) => x.apiVersion === 'kubeovn.io/v1')) {
      const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, generation: _g, ...meta } = d.metadata;
      const o = s.create(d.kind === 'Vpc' ? VPCS : SUBNETS, undefined, { ...d, metadata: meta });
      assert.deepEqual({ ...(o.spec as object) }, { ...(d.spec as object), ...(d.kind === 'Subnet' ? { default: false, protocol: 'IPv4', provider: 'ovn', gatewayType: 'distributed', private: false, disableInterConnection: false } : {}) });
    }
  });
});
