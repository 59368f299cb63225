// The endpointslice controller's part for the lab kubelet's pods (the lab has no controller-manager; its own steps
// write their services' slices). For every Service with a selector in a namespace where the kubelet runs pods: one
// EndpointSlice `<service>-lab` with the selected pods that have an IP, ready as their Ready condition says.
import type { KubeObject, UnixKubeClient } from './kube.js';

interface Svc extends KubeObject {
  spec?: { selector?: Record<string, string>; ports?: Array<{ name?: string; protocol?: string; port: number; targetPort?: number | string }> };
}
interface Pod extends KubeObject {
  spec?: { nodeName?: string };
  status?: { podIP?: string; conditions?: Array<{ type: string; status: string }> };
}

export const MANAGED_BY = 'endpointslice-controller.k8s.io';

/** The slice the endpointslice controller would write for `svc` over `pods` (numeric targetPorts only). */
export function desiredSlice(svc: Svc, pods: Pod[]): KubeObject {
  const sel = svc.spec?.selector ?? {};
  const ns = svc.metadata.namespace ?? 'default';
  const chosen = pods.filter((p) => p.status?.podIP && Object.entries(sel).every(([k, v]) => p.metadata.labels?.[k] === v));
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${svc.metadata.name}-lab`, namespace: ns, labels: { 'kubernetes.io/service-name': svc.metadata.name as string, 'endpointslice.kubernetes.io/managed-by': MANAGED_BY } },
    addressType: 'IPv4',
    ports: (svc.spec?.ports ?? []).map((p) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: typeof p.targetPort === 'number' ? p.targetPort : p.port })),
    endpoints: chosen.map((p) => {
      const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      return { addresses: [p.status?.podIP as string], nodeName: p.spec?.nodeName, conditions: { ready, serving: ready, terminating: false },
        targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid } };
    }),
  } as KubeObject;
}

const sliceBody = (s: KubeObject): string => JSON.stringify({ l: s.metadata.labels, a: (s as { addressType?: unknown }).addressType, p: (s as { ports?: unknown }).ports, e: (s as { endpoints?: unknown }).endpoints });

/** Brings the slices of `namespaces` to what their services and pods say; removes those of services that went. */
export async function reconcileSlices(kube: UnixKubeClient, namespaces: Set<string>, pods: Pod[]): Promise<void> {
  for (const ns of namespaces) {
    const svcs = (await kube.list<Svc>(`/api/v1/namespaces/${ns}/services`)).items.filter((s) => s.spec?.selector && Object.keys(s.spec.selector).length);
    const have = (await kube.list(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, { labelSelector: `endpointslice.kubernetes.io/managed-by=${MANAGED_BY}` })).items;
    const want = svcs.map((s) => desiredSlice(s, pods.filter((p) => p.metadata.namespace === ns)));
    for (const w of want) {
      const cur = have.find((h) => h.metadata.name === w.metadata.name);
      const path = `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`;
      if (!cur) await kube.create(path, w);
      else if (sliceBody(cur) !== sliceBody(w)) await kube.update(`${path}/${w.metadata.name}`, { ...w, metadata: { ...w.metadata, resourceVersion: cur.metadata.resourceVersion } });
    }
    for (const h of have) if (!want.some((w) => w.metadata.name === h.metadata.name)) await kube.delete(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/${h.metadata.name}`);
  }
}
