// make lab CLUSTERS=2 applies the Kube-OVN docs' ConfigMaps as written; only what differs per cluster changes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEED_DIR, clusterCidr, clusterName, formatMultiReport, seedConfigMap } from '../../../lab/multi-cluster.js';
import type { MultiClusterLabFile } from '../../../lab/lab-file.js';

describe('lab multi-cluster', () => {
  it('az1 gets the seed unchanged; az2 differs only in az-name and gw-nodes', () => {
    const raw = readFileSync(join(SEED_DIR, 'seed-auto-route.yaml'), 'utf8');
    assert.match(raw, /az-name: "az1"/);
    const a1 = seedConfigMap('seed-auto-route.yaml', 'az1');
    const a2 = seedConfigMap('seed-auto-route.yaml', 'az2');
    assert.equal(a1.metadata.name, 'ovn-ic-config');
    assert.equal(a1.metadata.namespace, 'kube-system');
    assert.equal(a1.data?.['ic-db-host'], '192.168.65.3');
    assert.deepEqual({ ...a2.data, 'az-name': 'az1', 'gw-nodes': 'az1-gw' }, a1.data);
    assert.equal(a2.data?.['az-name'], 'az2');
    assert.equal(a2.data?.['gw-nodes'], 'az2-gw');
  });

  it('gives clusters distinct names and non-overlapping cluster CIDRs', () => {
    assert.deepEqual([0, 1, 2].map(clusterName), ['az1', 'az2', 'az3']);
    assert.deepEqual([0, 1].map(clusterCidr), ['10.16.0.0/16', '10.17.0.0/16']);
  });

  it('reports each cluster\'s checks under it and the cross-cluster ones apart', () => {
    const cluster = (name: string, k: number) => ({
      name, clusterCidr: clusterCidr(k), stateDir: '/x', icStatus: { state: 'connected', message: `AZ ${name} attached`, overlaps: '' },
      prefix: `t-${name}-`, createdAt: '', components: { apiserver: true, watcher: true, agent: true }, apiserver: null,
      nb: { remotes: [], unixSocket: '' }, sb: { remotes: [], unixSocket: '' }, central: { netns: `t-${name}-central`, ip: '1', runDir: '' },
      underlay: { netns: 't-ul', cidr: '' }, nodes: [], services: [],
      pods: [{ namespace: 'default', name: 'client', node: 'n', netns: `t-${name}-pod`, ip: `10.${16 + k}.0.4`, mac: '', hostIface: '' }],
    });
    const [c1, c2] = [cluster('az1', 0), cluster('az2', 1)];
    const f: MultiClusterLabFile = { ...c1, prefix: 't-', clusters: [c1, c2],
      interconnect: { icNb: ['tcp:a'], icSb: ['tcp:b'], unixSockets: { nb: [], sb: [] }, netns: 't-icdb', seed: 's.yaml', statusConfigMap: 'kube-system/ovn-ic-status' } };
    const text = formatMultiReport(f, [
      { kind: 'ping', from: 'az1:default/client', to: 'az1:default/x', target: '10.16.0.9', ok: true, detail: 'rtt 1 ms' },
      { kind: 'cluster', from: 'az1:default/client', to: 'az2:default/client', target: '10.17.0.4', ok: false, detail: 'ping FAILED' },
    ], 1500);
    assert.match(text, /Cluster az1 \(cluster CIDR 10\.16\.0\.0\/16\), ovn-ic-status connected/);
    assert.match(text, /ok {3}default\/client -> default\/x/);
    assert.match(text, /Across clusters .*: 0\/1 ok/);
    assert.match(text, /FAIL az1:default\/client -> az2:default\/client 10\.17\.0\.4/);
    assert.match(text, /All checks: 1\/2 ok/);
  });
});
