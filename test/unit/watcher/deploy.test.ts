// The watcher's manifests: parse, run two replicas with flags the watcher knows, and grant exactly the
// access the controllers use (least privilege: nothing more, nothing less).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { WATCHER_SPEC } from '../../../watcher/config.js';

const dir = resolve(import.meta.dirname, '../../../deploy/watcher');
type Doc = { kind: string; metadata: { name: string; namespace?: string }; rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }>; spec?: Record<string, unknown> };
const load = (f: string): Doc[] => loadAllYaml(readFileSync(`${dir}/${f}`, 'utf8')) as Doc[];

describe('deploy/watcher manifests', () => {
  it('a Deployment with 2 replicas, spread over hosts, using only known flags', () => {
    const [d] = load('deployment.yaml') as Array<Doc & { spec: { replicas: number; template: { spec: { containers: Array<{ args: string[] }>; affinity: unknown } } } }>;
    assert.equal(d.kind, 'Deployment');
    assert.equal(d.spec.replicas, 2);
    assert.ok(d.spec.template.spec.affinity, 'anti-affinity keeps replicas apart');
    for (const a of d.spec.template.spec.containers[0].args) {
      const flag = /^--([a-z-]+)=/.exec(a)?.[1];
      assert.ok(flag && WATCHER_SPEC.flags[flag], `unknown flag in deployment: ${a}`);
    }
  });
  it('RBAC grants exactly what the controllers use', () => {
    const docs = load('rbac.yaml');
    const grants = new Set<string>();
    for (const d of docs.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
      for (const r of d.rules ?? []) for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) grants.add(`${d.kind}:${g}/${res}:${v}${r.resourceNames ? `@${r.resourceNames.join(',')}` : ''}`);
    }
    // A Set: the Vpc/Subnet controllers and the interconnect controller both read Subnets, one rule grants it.
    const expected = new Set([
      ...['nodes', 'pods'].flatMap((r) => ['get', 'list', 'watch', 'patch'].map((v) => `ClusterRole:/${r}:${v}`)),
      ...['namespaces', 'services'].flatMap((r) => ['get', 'list', 'watch'].map((v) => `ClusterRole:/${r}:${v}`)),
      ...['get', 'list', 'watch'].map((v) => `ClusterRole:discovery.k8s.io/endpointslices:${v}`),
      ...['get', 'list', 'watch'].map((v) => `ClusterRole:networking.k8s.io/networkpolicies:${v}`),
      ...['', 'events.k8s.io'].flatMap((g) => ['create', 'patch'].map((v) => `ClusterRole:${g}/events:${v}`)),
      // The Vpc/Subnet controller: informers, the default Vpc and Subnets created, finalizers patched, and status.
      ...['vpcs', 'subnets'].flatMap((r) => ['get', 'list', 'watch', 'create', 'patch'].map((v) => `ClusterRole:kubeovn.io/${r}:${v}`)),
      ...['vpcs/status', 'subnets/status'].map((r) => `ClusterRole:kubeovn.io/${r}:patch`),
      // External Vpcs (watcher/vpc/external.ts): a Neutron router's Vpc goes with the router.
      'ClusterRole:kubeovn.io/vpcs:delete',
      'Role:coordination.k8s.io/leases:create',
      ...['get', 'update', 'patch'].map((v) => `Role:coordination.k8s.io/leases:${v}@tessera-watcher`),
      // The interconnect controller: ovn-ic-config (informer), ovn-ic-status (written), kubeovn.io Subnets.
      ...['get', 'list', 'watch'].map((v) => `ClusterRole:kubeovn.io/subnets:${v}`),
      ...['get', 'list', 'watch', 'create'].map((v) => `Role:/configmaps:${v}`),
      ...['update', 'patch'].map((v) => `Role:/configmaps:${v}@ovn-ic-status`),
      // Neutron pod ports: the one Secret with the Neutron endpoint and credentials.
      'Role:/secrets:get@tessera-neutron',
    ]);
    assert.deepEqual([...grants].sort(), [...expected].sort());
    assert.ok(!docs.some((d) => d.rules?.some((r) => r.verbs.includes('*') || r.resources.includes('*'))), 'no wildcards');
  });
});
