// A typed informer over client-node's ListWatch that keeps running: client-node's informer stops
// for good after any error other than 410 (which it handles by relisting), and swallows exceptions
// thrown by handlers. InformerCore (informer-core.ts) restarts it with backoff, logs handler failures, hands
// update handlers the previous object, and exposes a `synced` promise for the first complete list.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { KubeLogger } from './client.js';
import { apiErrorCode } from './client.js';
import { InformerCore } from './informer-core.js';

export { WaitTimeout, type AddHandler, type UpdateHandler, type DeleteHandler, type InformerEvent, type Listener } from './informer-core.js';

export interface InformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** Watch path of the collection, e.g. /api/v1/pods or /api/v1/namespaces/ns/pods. */
  path: string;
  /** Lists the same collection with the same selectors (a client-node list call). */
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  logger?: KubeLogger;
  /** Restart backoff after an error: doubles from minMs up to maxMs; reset by a successful (re)start. */
  backoff?: { minMs: number; maxMs: number };
  /** Name used in log lines (default: the path). */
  name?: string;
}

export class Informer<T extends KubernetesObject> extends InformerCore<T> {
  constructor(opts: InformerOptions<T>) {
    super(new ListWatch<T>(opts.path, new Watch(opts.kc), opts.list, false, opts.labelSelector, opts.fieldSelector), { ...opts, errorCode: apiErrorCode });
  }
}
