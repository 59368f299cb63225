// The gateway's view of Kubernetes: Services and EndpointSlices of the whole cluster (informer caches).
import type { KubernetesListObject, V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { loadKubeConfig, makeClients, type KubeAccessOptions } from '../lib/kube/client.js';
import { Informer } from '../lib/kube/informer.js';
import type { Logger } from '../lib/log.js';

export interface ServiceWatch {
  services: Informer<V1Service>;
  slices: Informer<V1EndpointSlice>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function watchServices(access: KubeAccessOptions, log: Logger, onChange: () => void): ServiceWatch {
  const kc = loadKubeConfig(access);
  const api = makeClients(kc);
  const services = new Informer<V1Service>({
    kc, path: '/api/v1/services', name: 'services', logger: log,
    list: () => api.core.listServiceForAllNamespaces() as Promise<KubernetesListObject<V1Service>>,
  });
  const slices = new Informer<V1EndpointSlice>({
    kc, path: '/apis/discovery.k8s.io/v1/endpointslices', name: 'endpointslices', logger: log,
    list: () => api.discovery.listEndpointSliceForAllNamespaces() as Promise<KubernetesListObject<V1EndpointSlice>>,
  });
  for (const inf of [services, slices] as const) {
    (inf as Informer<V1Service | V1EndpointSlice>).onAdd(onChange).onUpdate(onChange).onDelete(onChange);
  }
  return {
    services, slices,
    async start() {
      await Promise.all([services.start(), slices.start()]);
      await Promise.all([services.synced, slices.synced]);
    },
    async stop() {
      await Promise.all([services.stop(), slices.stop()]);
    },
  };
}
