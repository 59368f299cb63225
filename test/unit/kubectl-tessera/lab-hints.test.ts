import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { kubectlHints } from '../../../lab/kubectl-hints.js';
import type { LabFile } from '../../../lab/lab-file.js';
import { REPO_ROOT } from '../../../lab/paths.js';

describe('make lab: kubectl tessera hints', () => {
  const pod = (name: string, node: string, labels?: Record<string, string>): LabFile['pods'][number] =>
    ({ namespace: 'default', name, node, netns: `tessera-pod-default-${name}`, ip: '10.244.0.3', mac: '', hostIface: '', ...(labels ? { labels } : {}) });
  const file = { pods: [pod('web-1', 'node1'), pod('web-2', 'node2'), pod('client', 'node1', { role: 'client' })],
    services: [{ namespace: 'default', name: 'web', clusterIP: '10.96.0.10', ports: [{ name: 'tcp', protocol: 'TCP', port: 80, targetPort: 8080 }] }] } as unknown as LabFile;

  it('names the built plugin, the lab file, diagnose, and traces from the client to a pod on another node and to the service', () => {
    const out = kubectlHints(join(REPO_ROOT, '.lab', 'lab.json'), file, REPO_ROOT);
    assert.match(out, /^ {2}dist\/bin\/kubectl-tessera --lab \.lab\/lab\.json diagnose$/m);
    assert.match(out, /^ {2}dist\/bin\/kubectl-tessera --lab \.lab\/lab\.json trace default\/client default\/web-2:8080$/m);
    assert.match(out, /^ {2}dist\/bin\/kubectl-tessera --lab \.lab\/lab\.json trace default\/client default\/web:80$/m);
  });
});
