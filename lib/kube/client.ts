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
import { IN_CLUSTER_TOKEN, kubeApiSource } from './api-source.js';

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

export { IN_CLUSTER_TOKEN };

/**
 * Resolution order: explicit server (+ token), then a kubeconfig file, then the in-cluster service
 * account (KUBERNETES_SERVICE_HOST set). Anything else is a ConfigError naming what is missing.
 */
export function loadKubeConfig(opts: KubeAccessOptions, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  const source = kubeApiSource(opts, env);
  if (source.kind === 'api') {
    if (opts.caFile && !fs.existsSync(opts.caFile)) throw new ConfigError(`CA file "${opts.caFile}" does not exist`);
    // client-node throws "HTTP protocol is not allowed when skipTLSVerify is not set" for an
    // http:// server, although there is no TLS to verify: set it for http.
    const skipTLSVerify = source.server.protocol === 'http:' || (opts.insecureSkipTlsVerify ?? false);
    const { tokenFile } = source;
    if (tokenFile) checkTokenFile(tokenFile);
    kc.loadFromClusterAndUser(
      { name: 'tessera', server: opts.server!.replace(/\/+$/, ''), skipTLSVerify, ...(opts.caFile ? { caFile: opts.caFile } : {}) },
      { name: 'tessera', ...(tokenFile ? { authProvider: { name: TOKEN_FILE_PROVIDER, config: { path: tokenFile } } } : {}) },
    );
    if (tokenFile) useTokenFile(kc, tokenFile);
    return kc;
  }
  if (source.kind === 'kubeconfig') {
    try {
      kc.loadFromFile(source.path);
    } catch (err) {
      throw new ConfigError(`kubeconfig "${source.path}": ${(err as Error).message.split('\n')[0]}`);
    }
    if (!kc.getCurrentCluster()) throw new ConfigError(`kubeconfig "${source.path}" has no current cluster`);
    return kc;
  }
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
