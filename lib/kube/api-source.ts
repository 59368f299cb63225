// Which Kubernetes API a daemon's flags name, and the checks every daemon applies to them, without client-node:
// lib/kube/client.ts builds client-node's KubeConfig from it and the agent (agent/kube-client/) its own client.
// Order: --kube-api (with --kube-token-file), else --kubeconfig, else the in-cluster service account.
import fs from 'node:fs';
import { ConfigError } from '../cli.js';

export const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeApiFlags {
  /** --kube-api */
  server?: string;
  /** --kube-token-file; checked by the caller, which reads it. */
  tokenFile?: string;
  /** --kubeconfig */
  kubeconfig?: string;
}

export type KubeApiSource =
  | { kind: 'api'; server: URL; tokenFile?: string }
  | { kind: 'kubeconfig'; path: string }
  | { kind: 'in-cluster'; server: URL };

/** `raw` without trailing slashes as an http(s) URL, or a ConfigError naming `what`. */
export function kubeServerUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw.replace(/\/+$/, ''));
  } catch {
    throw new ConfigError(`${what} "${raw}" is not a URL (expected http://HOST:PORT or https://HOST:PORT)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${what} "${raw}": scheme must be http or https`);
  return url;
}

/** The API the flags (or the pod's environment) name; a ConfigError for a contradiction or a missing file. */
export function kubeApiSource(flags: KubeApiFlags, env: NodeJS.ProcessEnv): KubeApiSource {
  if (flags.server) {
    if (flags.kubeconfig) throw new ConfigError('give either --kube-api (with --kube-token-file) or --kubeconfig, not both');
    return { kind: 'api', server: kubeServerUrl(flags.server, '--kube-api'), ...(flags.tokenFile ? { tokenFile: flags.tokenFile } : {}) };
  }
  if (flags.tokenFile) throw new ConfigError('--kube-token-file needs --kube-api');
  if (flags.kubeconfig) {
    if (!fs.existsSync(flags.kubeconfig)) throw new ConfigError(`kubeconfig "${flags.kubeconfig}" does not exist`);
    return { kind: 'kubeconfig', path: flags.kubeconfig };
  }
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) {
    if (!fs.existsSync(IN_CLUSTER_TOKEN)) throw new ConfigError(`running in-cluster but ${IN_CLUSTER_TOKEN} is missing`);
    const host = env.KUBERNETES_SERVICE_HOST.includes(':') ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST;
    return { kind: 'in-cluster', server: kubeServerUrl(`https://${host}:${env.KUBERNETES_SERVICE_PORT}`, 'KUBERNETES_SERVICE_HOST/PORT') };
  }
  throw new ConfigError('no Kubernetes API configured: give --kube-api and --kube-token-file, or --kubeconfig, or run in a pod');
}
