// The DaemonSet manifests must agree with the code: agent flags that exist, a conflist the shim accepts, read-only RBAC.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spec } from '../../../agent/config.js';
import { loadNetConf } from '../../../cni/plugin.js';

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

  it('grants read-only access to pods, nodes and kubeovn.io subnets, nothing else', () => {
    const rbac = read('rbac.yaml');
    const rules = rbac.slice(rbac.indexOf('rules:'), rbac.indexOf('---', rbac.indexOf('rules:')));
    assert.match(rules, /resources: \["pods", "nodes"\]/);
    assert.match(rules, /verbs: \["get", "list", "watch"\]/);
    assert.match(rules, /apiGroups: \["kubeovn.io"\]\n    resources: \["subnets"\]\n    verbs: \["get", "list", "watch"\]/);
    assert.equal((rules.match(/apiGroups/g) ?? []).length, 2);
    assert.equal((rules.match(/verbs: \["get", "list", "watch"\]/g) ?? []).length, 2);
  });
});
