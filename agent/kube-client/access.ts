// Where the agent's API server is and how it authenticates, without client-node: the source its flags name
// (lib/kube/api-source.ts, shared with the other daemons' loadKubeConfig) made into a server URL, TLS settings and
// a token (a rotating file: --kube-token-file, a kubeconfig's tokenFile, the in-cluster service account's).
import fs from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../../lib/cli.js';
import { IN_CLUSTER_TOKEN, kubeApiSource, kubeServerUrl, type KubeApiFlags } from '../../lib/kube/api-source.js';
import { checkTokenFile, TokenFile } from '../../lib/kube/token-file.js';
import { parseKubeconfig } from './kubeconfig.js';

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

export type KubeAccessFlags = KubeApiFlags;

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
  const source = kubeApiSource(flags, env);
  if (source.kind === 'kubeconfig') return fromKubeconfig(source.path);
  if (source.kind === 'in-cluster') return fromTokenFile(source.server, { rejectUnauthorized: true, ca: readFileFlag(IN_CLUSTER_CA, 'in-cluster CA') }, IN_CLUSTER_TOKEN);
  const tls: KubeTls = { rejectUnauthorized: true };
  if (!source.tokenFile) return { server: source.server, tls, token: () => undefined };
  checkTokenFile(source.tokenFile);
  return fromTokenFile(source.server, tls, source.tokenFile);
}

/** The current context of a kubeconfig: file paths in it are relative to the file, as kubectl reads them. */
function fromKubeconfig(path: string): KubeAccess {
  const k = parseKubeconfig(fs.readFileSync(path, 'utf8'), path);
  const rel = (p: string) => resolve(dirname(path), p);
  const data = (b64: string | undefined, file: string | undefined, what: string): Buffer | undefined =>
    b64 !== undefined ? Buffer.from(b64, 'base64') : file !== undefined ? readFileFlag(rel(file), `kubeconfig "${path}" ${what}`) : undefined;
  const server = kubeServerUrl(k.cluster.server, `kubeconfig "${path}" server`);
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
