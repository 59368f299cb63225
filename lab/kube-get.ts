// `kubectl get <plural>` for the lab's custom resources: the table kubectl prints from a CRD's
// additionalPrinterColumns (deploy/crds/), read from the same manifests the API test double serves.
import { customKind } from '../kube-double/crds.js';
import type { KubeObject, UnixKubeClient } from './kube.js';

/** The value at a simple JSONPath (".spec.cidrBlock"), as kubectl prints it: lists and maps as JSON, absent as <none>. */
function cell(o: unknown, path: string): string {
  let v: unknown = o;
  for (const k of path.replace(/^\./, '').split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  if (v === undefined || v === null) return '<none>';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i] + 3))).join('').trimEnd()).join('\n');
}

/** The listing kubectl prints for `kubectl get <plural>` of a kubeovn.io kind. */
export async function kubectlGet(kube: UnixKubeClient, plural: 'vpcs' | 'subnets'): Promise<string> {
  const kind = customKind('kubeovn.io', plural);
  if (!kind) throw new Error(`no CRD for kubeovn.io ${plural}`);
  const list = await kube.list<KubeObject>(`/apis/kubeovn.io/v1/${plural}`);
  const items = [...list.items].sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
  return table([['NAME', ...kind.columns.map((c) => c.name.toUpperCase())], ...items.map((o) => [String(o.metadata.name), ...kind.columns.map((c) => cell(o, c.jsonPath))])]);
}
