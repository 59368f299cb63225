// Where the agent's API server is and how it authenticates, resolved from its flags as lib/kube/client.ts's
// loadKubeConfig does for the other daemons (same order, same ConfigErrors), without client-node: --kube-api
// with --kube-token-file, else --kubeconfig, else the in-cluster service account (its rotating token and ca.crt).
import fs from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../../lib/cli.js';
import { checkTokenFile, TokenFile } from '../../lib/kube/token-file.js';
import { parseKubeconfig } from './kubeconfig.js';

/** lib/kube/client.ts's IN_CLUSTER_TOKEN: that module loads client-node, which the agent does not. */
const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
export const IN_CLUSTER_CA = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';

/** TLS settings for an https server; without `ca` Node's roots (and NODE_EXTRA_CA_CERTS) are used. */
export interface KubeTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** false only for insecure-skip-tls-verify in a kubeconfig. */
  rejectUnauthorized: boolean;
  servername?: string;
}

export interface KubeAccess {
  /** The server's base URL, without a trailing slash. */
  server: URL;
  tls: KubeTls;
  /** The bearer token for the next request: a rotating file (`tokenFile`) or a fixed kubeconfig token. */
  token(): string | undefined;
  /** Set when the token comes from a file: a 401 invalidates it, so the retry reads the rotated token. */
  tokenFile?: TokenFile;
}

export interface KubeAccessFlags {
  server?: string;
  tokenFile?: string;
  kubeconfig?: string;
}

function serverUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw.replace(/\/+$/, ''));
  } catch {
    throw new ConfigError(`${what} "${raw}" is not a URL (expected http://HOST:PORT or https://HOST:PORT)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${what} "${raw}": scheme must be http or https`);
  return url;
}

function fromTokenFile(server: URL, tls: KubeTls, path: string): KubeAccess {
  const file = new TokenFile(path);
  return { server, tls, token: () => file.current(), tokenFile: file };
}

function readFileFlag(path: string, what: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function resolveKubeAccess(flags: KubeAccessFlags, env: NodeJS.ProcessEnv = process.env): KubeAccess {
  if (flags.server) {
    if (flags.kubeconfig) throw new ConfigError('give either --kube-api (with --kube-token-file) or --kubeconfig, not both');
    const server = serverUrl(flags.server, '--kube-api');
    const tls: KubeTls = { rejectUnauthorized: true };
    if (!flags.tokenFile) return { server, tls, token: () => undefined };
    checkTokenFile(flags.tokenFile);
    return fromTokenFile(server, tls, flags.tokenFile);
  }
  if (flags.tokenFile) throw new ConfigError('--kube-token-file needs --kube-api');
  if (flags.kubeconfig) return fromKubeconfig(flags.kubeconfig);
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) {
    if (!fs.existsSync(IN_CLUSTER_TOKEN)) throw new ConfigError(`running in-cluster but ${IN_CLUSTER_TOKEN} is missing`);
    const host = env.KUBERNETES_SERVICE_HOST.includes(':') ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST;
    const server = serverUrl(`https://${host}:${env.KUBERNETES_SERVICE_PORT}`, 'KUBERNETES_SERVICE_HOST/PORT');
    return fromTokenFile(server, { rejectUnauthorized: true, ca: readFileFlag(IN_CLUSTER_CA, 'in-cluster CA') }, IN_CLUSTER_TOKEN);
  }
  throw new ConfigError('no Kubernetes API configured: give --kube-api and --kube-token-file, or --kubeconfig, or run in a pod');
}

/** The current context of a kubeconfig: file paths in it are relative to the file, as kubectl reads them. */
function fromKubeconfig(path: string): KubeAccess {
  if (!fs.existsSync(path)) throw new ConfigError(`kubeconfig "${path}" does not exist`);
  const k = parseKubeconfig(fs.readFileSync(path, 'utf8'), path);
  const rel = (p: string) => resolve(dirname(path), p);
  const data = (b64: string | undefined, file: string | undefined, what: string): Buffer | undefined =>
    b64 !== undefined ? Buffer.from(b64, 'base64') : file !== undefined ? readFileFlag(rel(file), `kubeconfig "${path}" ${what}`) : undefined;
  const server = serverUrl(k.cluster.server, `kubeconfig "${path}" server`);
  const tls: KubeTls = {
    rejectUnauthorized: !k.cluster.insecureSkipTlsVerify,
    ca: data(k.cluster.caData, k.cluster.caFile, 'certificate-authority'),
    cert: data(k.user.certData, k.user.certFile, 'client-certificate'),
    key: data(k.user.keyData, k.user.keyFile, 'client-key'),
    ...(k.cluster.tlsServerName ? { servername: k.cluster.tlsServerName } : {}),
  };
  if (k.user.tokenFile) {
    checkTokenFile(rel(k.user.tokenFile), `kubeconfig "${path}" tokenFile`);
    return fromTokenFile(server, tls, rel(k.user.tokenFile));
  }
  const token = k.user.token;
  return { server, tls, token: () => token };
}
