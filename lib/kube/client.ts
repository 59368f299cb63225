// Builds a KubeConfig from daemon flags: --kube-api/--kube-token-file, or --kubeconfig, or the in-cluster
// service account. One place, so watcher, agent and gateway reach the API the same way. Tokens come from
// files (re-read as they rotate, lib/kube/token-file.ts), never from the command line.
import fs from 'node:fs';
import {
  KubeConfig,
  CoreV1Api,
  CoordinationV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  NetworkingV1Api,
  createConfiguration,
  ServerConfiguration,
  type Configuration,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { ConfigError } from '../cli.js';
import { checkTokenFile, tokenFileOf, useTokenFile, TOKEN_FILE_PROVIDER } from './token-file.js';

export interface KubeAccessOptions {
  /** API server URL, e.g. http://10.0.0.1:6443 (--kube-api). */
  server?: string;
  /** File holding the bearer token (--kube-token-file), re-read when it changes. */
  tokenFile?: string;
  /** CA bundle for an https server; without it the system roots are used. */
  caFile?: string;
  /** Skip TLS verification (lab only). */
  insecureSkipTlsVerify?: boolean;
  /** A kubeconfig file (--kubeconfig); its current context is used. */
  kubeconfig?: string;
}

/** Minimal logger shape, satisfied by lib/log.ts (winston) and by console-like test loggers. */
export interface KubeLogger {
  info(msg: string, meta?: Record<string, unknown>): unknown;
  warn(msg: string, meta?: Record<string, unknown>): unknown;
  debug(msg: string, meta?: Record<string, unknown>): unknown;
}

export const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Resolution order: explicit server (+ token), then a kubeconfig file, then the in-cluster service
 * account (KUBERNETES_SERVICE_HOST set). Anything else is a ConfigError naming what is missing.
 */
export function loadKubeConfig(opts: KubeAccessOptions, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (opts.server) {
    if (opts.kubeconfig) throw new ConfigError('give either --kube-api (with --kube-token-file) or --kubeconfig, not both');
    let url: URL;
    try {
      url = new URL(opts.server);
    } catch {
      throw new ConfigError(`--kube-api "${opts.server}" is not a URL (expected http://HOST:PORT or https://HOST:PORT)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--kube-api "${opts.server}": scheme must be http or https`);
    if (opts.caFile && !fs.existsSync(opts.caFile)) throw new ConfigError(`CA file "${opts.caFile}" does not exist`);
    const server = opts.server.replace(/\/+$/, '');
    // client-node throws "HTTP protocol is not allowed when skipTLSVerify is not set" for an
    // http:// server, although there is no TLS to verify: set it for http.
    const skipTLSVerify = url.protocol === 'http:' || (opts.insecureSkipTlsVerify ?? false);
    if (opts.tokenFile) checkTokenFile(opts.tokenFile);
    kc.loadFromClusterAndUser(
      { name: 'tessera', server, skipTLSVerify, ...(opts.caFile ? { caFile: opts.caFile } : {}) },
      { name: 'tessera', ...(opts.tokenFile ? { authProvider: { name: TOKEN_FILE_PROVIDER, config: { path: opts.tokenFile } } } : {}) },
    );
    if (opts.tokenFile) useTokenFile(kc, opts.tokenFile);
    return kc;
  }
  if (opts.tokenFile) throw new ConfigError('--kube-token-file needs --kube-api');
  if (opts.kubeconfig) {
    if (!fs.existsSync(opts.kubeconfig)) throw new ConfigError(`kubeconfig "${opts.kubeconfig}" does not exist`);
    try {
      kc.loadFromFile(opts.kubeconfig);
    } catch (err) {
      throw new ConfigError(`kubeconfig "${opts.kubeconfig}": ${(err as Error).message.split('\n')[0]}`);
    }
    if (!kc.getCurrentCluster()) throw new ConfigError(`kubeconfig "${opts.kubeconfig}" has no current cluster`);
    return kc;
  }
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) {
    if (!fs.existsSync(IN_CLUSTER_TOKEN)) throw new ConfigError(`running in-cluster but ${IN_CLUSTER_TOKEN} is missing`);
    kc.loadFromCluster();
    // The same rotating reader as --kube-token-file instead of client-node's 60 s re-read.
    const user = kc.getCurrentUser();
    if (user) {
      kc.loadFromOptions({
        clusters: kc.clusters,
        contexts: kc.contexts,
        currentContext: kc.currentContext,
        users: [{ name: user.name, authProvider: { name: TOKEN_FILE_PROVIDER, config: { path: IN_CLUSTER_TOKEN } } }],
      });
      useTokenFile(kc, IN_CLUSTER_TOKEN);
    }
    return kc;
  }
  throw new ConfigError('no Kubernetes API configured: give --kube-api and --kube-token-file, or --kubeconfig, or run in a pod');
}

/** The typed API groups Tessera uses, built once per KubeConfig. */
export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  discovery: DiscoveryV1Api;
  networking: NetworkingV1Api;
  coordination: CoordinationV1Api;
  custom: CustomObjectsApi;
}

/**
 * Like kc.makeApiClient for each group, plus: a 401 makes the token file be re-read before the next
 * request (the caller's retry then carries the rotated token). Connections are client-node's: its
 * undici dispatchers keep them alive and carry the cluster's TLS settings.
 */
export function makeClients(kc: KubeConfig): KubeClients {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ConfigError('the Kubernetes config has no current cluster');
  const middleware = {
    pre: async (ctx: RequestContext) => ctx,
    post: async (res: ResponseContext) => {
      if (res.httpStatusCode === 401) tokenFileOf(kc)?.invalidate();
      return res;
    },
  };
  const config: Configuration = createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: kc }, promiseMiddleware: [middleware] });
  const mk = <T>(ctor: new (c: Configuration) => T): T => new ctor(config);
  return {
    kc,
    core: mk(CoreV1Api),
    discovery: mk(DiscoveryV1Api),
    networking: mk(NetworkingV1Api),
    coordination: mk(CoordinationV1Api),
    custom: mk(CustomObjectsApi),
  };
}

/** HTTP status of a client-node error (ApiException.code, or the watch's statusCode), if any. */
export function apiErrorCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}
