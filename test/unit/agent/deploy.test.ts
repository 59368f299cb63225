// The DaemonSet manifests must agree with the code: agent flags that exist, a conflist the shim accepts, RBAC that
// reads pods, nodes and kubeovn.io subnets and patches only nodes, held to the agent's own Node and annotation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spec } from '../../../agent/config.js';
import { loadNetConf } from '../../../cni/plugin.js';
import { NODE_MGMT_MAC_ANNOTATION } from '../../../lib/kube/annotations.js';

const dir = join(import.meta.dirname, '..', '..', '..', 'deploy', 'agent');
const read = (f: string): string => readFileSync(join(dir, f), 'utf8');

describe('deploy/agent manifests', () => {
  it('passes only flags tessera-agent knows', () => {
    const flags = [...read('daemonset.yaml').matchAll(/^\s+- --([a-z-]+)=/gm)].map((m) => m[1]);
    assert.ok(flags.length >= 5);
    for (const f of flags) assert.ok(f in spec.flags, `--${f} is not an agent flag`);
  });

  it('ships a conflist whose tessera-cni entry the shim accepts', () => {
    const text = read('config.yaml');
    const block = text.slice(text.indexOf('10-tessera.conflist: |') + '10-tessera.conflist: |'.length);
    const conflist = JSON.parse(block.split('\n').map((l) => l.replace(/^ {4}/, '')).join('\n')) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
    const plugin = conflist.plugins.find((p) => p.type === 'tessera-cni');
    assert.ok(plugin);
    const conf = loadNetConf(JSON.stringify({ cniVersion: conflist.cniVersion, name: conflist.name, ...plugin }));
    assert.equal(conf.agentSocket, '/var/run/tessera/cni.sock');
  });

  it('gives the agent no Northbound remote', () => {
    assert.doesNotMatch(read('daemonset.yaml'), /--nb\b|OVN_NB/);
    assert.doesNotMatch(read('config.yaml'), /ovn-nb/);
  });

  it('grants get/list/watch on pods, nodes and kubeovn.io subnets and patch on nodes, nothing else', () => {
    const rbac = read('rbac.yaml');
    const rules = rbac.slice(rbac.indexOf('rules:'), rbac.indexOf('---', rbac.indexOf('rules:')));
    const got = [...rules.matchAll(/- apiGroups: \[(.*)\]\n\s+resources: \[(.*)\]\n\s+verbs: \[(.*)\]/g)].map((m) => m.slice(1).join(' | '));
    assert.deepEqual(got, ['"" | "pods" | "get", "list", "watch"', '"" | "nodes" | "get", "list", "watch", "patch"',
      '"kubeovn.io" | "subnets" | "get", "list", "watch"']);
    assert.equal((rules.match(/apiGroups/g) ?? []).length, 3);
  });

  it('holds Node updates by the agent to its own Node and the annotation the code writes', () => {
    const vap = read('node-restriction.yaml');
    assert.match(vap, /request\.userInfo\.username == "system:serviceaccount:kube-system:tessera-agent"/);
    assert.match(vap, /object\.metadata\.name == request\.userInfo\.extra\['authentication\.kubernetes\.io\/node-name'\]\[0\]/);
    assert.ok(vap.includes(`expression: "'${NODE_MGMT_MAC_ANNOTATION}'"`), `the policy's key is ${NODE_MGMT_MAC_ANNOTATION}`);
    assert.match(vap, /validationActions: \[Deny\]/);
  });
});
