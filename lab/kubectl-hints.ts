// The lines `make lab` prints after its report: how to point `kubectl tessera` (dist/bin/kubectl-tessera) at this
// lab for diagnose and trace, with pod names from this lab's own description.
import { join, relative } from 'node:path';
import type { LabFile } from './lab-file.js';
import { BIN_DIR } from './paths.js';

export function kubectlHints(labFilePath: string, file: LabFile, cwd = process.cwd()): string {
  const rel = (p: string): string => (relative(cwd, p).startsWith('..') ? p : relative(cwd, p));
  const cmd = `${rel(join(BIN_DIR, 'kubectl-tessera'))} --lab ${rel(labFilePath)}`;
  const from = file.pods.find((p) => p.labels?.role === 'client') ?? file.pods[0];
  const to = file.pods.find((p) => p !== from && p.node !== from?.node) ?? file.pods.find((p) => p !== from);
  const svc = file.services[0];
  const lines = [`kubectl tessera against this lab (or PATH=$PWD/dist/bin:$PATH kubectl tessera --lab ...):`, `  ${cmd} diagnose`];
  if (from && to) lines.push(`  ${cmd} trace ${from.namespace}/${from.name} ${to.namespace}/${to.name}:8080`);
  if (from && svc) lines.push(`  ${cmd} trace ${from.namespace}/${from.name} ${svc.namespace}/${svc.name}:${svc.ports[0]?.port ?? 80}`);
  lines.push(`  ${cmd} topology --html /tmp/tessera-topology.html; ${cmd} connectivity`);
  return lines.join('\n');
}
