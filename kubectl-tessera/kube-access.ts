// Kubernetes access with kubectl's conventions: --kubeconfig, else $KUBECONFIG (a colon list), else
// ~/.kube/config, else the in-cluster service account; --context picks a context. For the lab, whose API test
// server listens inside a netns, the requests go over its unix socket with the lab's token file.
import { Agent as UndiciAgent } from 'undici';
import {
  KubeConfig, CoreV1Api, CoordinationV1Api, CustomObjectsApi, DiscoveryV1Api, NetworkingV1Api,
  createConfiguration, ServerConfiguration, type Configuration, type RequestContext, type ResponseContext,
} from '@kubernetes/client-node';
import { ConfigError } from '../lib/cli.js';
import { loadKubeConfig, makeClients, type KubeClients } from '../lib/kube/client.js';
import { tokenFileOf } from '../lib/kube/token-file.js';

export function kubectlConfig(o: { kubeconfig?: string; context?: string }, env: NodeJS.ProcessEnv = process.env): KubeClients {
  let kc: KubeConfig;
  if (o.kubeconfig) {
    kc = loadKubeConfig({ kubeconfig: o.kubeconfig }, env);
  } else {
    kc = new KubeConfig();
    try {
      kc.loadFromDefault();
    } catch (err) {
      throw new ConfigError(`kubeconfig: ${(err as Error).message.split('\n')[0]}`);
    }
    if (!kc.getCurrentCluster()) throw new ConfigError('no Kubernetes cluster configured: give --kubeconfig, set KUBECONFIG, or use --lab FILE');
  }
  if (o.context) {
    if (!kc.getContextObject(o.context)) throw new ConfigError(`--context ${o.context}: no such context in the kubeconfig`);
    kc.setCurrentContext(o.context);
  }
  return makeClients(kc);
}


/** The typed clients for the lab's API test server over `socketPath`, bearer token read from `tokenFile`. */
export function labKubeClients(socketPath: string, tokenFile: string): KubeClients {
  const kc = loadKubeConfig({ server: 'http://lab-apiserver', tokenFile });
  // client-node 2 sends through undici's fetch: a dispatcher that dials the socket instead of the URL's host.
  const dispatcher = new UndiciAgent({ connect: { socketPath } });
  const middleware = {
    pre: async (ctx: RequestContext) => {
      ctx.setDispatcher(dispatcher);
      return ctx;
    },
    post: async (res: ResponseContext) => {
      if (res.httpStatusCode === 401) tokenFileOf(kc)?.invalidate();
      return res;
    },
  };
  const config: Configuration = createConfiguration({ baseServer: new ServerConfiguration('http://lab-apiserver', {}), authMethods: { default: kc }, promiseMiddleware: [middleware] });
  const mk = <T>(ctor: new (c: Configuration) => T): T => new ctor(config);
  return { kc, core: mk(CoreV1Api), discovery: mk(DiscoveryV1Api), networking: mk(NetworkingV1Api), coordination: mk(CoordinationV1Api), custom: mk(CustomObjectsApi) };
}
