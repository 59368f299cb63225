// The parts of a kubeconfig's current context that the agent's client uses. Credentials that need a plugin
// (exec, auth-provider) or basic auth are a ConfigError naming them, rather than requests that fail later.
import yaml from 'js-yaml';
import { ConfigError } from '../../lib/cli.js';

export interface KubeconfigContext {
  cluster: { server: string; caFile?: string; caData?: string; insecureSkipTlsVerify: boolean; tlsServerName?: string };
  user: { token?: string; tokenFile?: string; certFile?: string; certData?: string; keyFile?: string; keyData?: string };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(o: Obj, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConfigError(`${where}: ${key} is not a string`);
  return v;
}

/** The named entry of a kubeconfig list (clusters, users, contexts), as its inner object. */
function named(doc: Obj, list: string, inner: string, name: string, file: string): Obj {
  const items = doc[list];
  const hit = Array.isArray(items) ? items.find((i): i is Obj => isObj(i) && i.name === name) : undefined;
  if (!hit) throw new ConfigError(`kubeconfig "${file}": no ${list.slice(0, -1)} named "${name}"`);
  return isObj(hit[inner]) ? hit[inner] : {};
}

export function parseKubeconfig(text: string, file: string): KubeconfigContext {
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (err) {
    throw new ConfigError(`kubeconfig "${file}": ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isObj(doc)) throw new ConfigError(`kubeconfig "${file}" is not a YAML mapping`);
  const current = str(doc, 'current-context', `kubeconfig "${file}"`);
  if (!current) throw new ConfigError(`kubeconfig "${file}" has no current cluster`);
  const ctx = named(doc, 'contexts', 'context', current, file);
  const clusterName = str(ctx, 'cluster', `kubeconfig "${file}" context ${current}`);
  if (!clusterName) throw new ConfigError(`kubeconfig "${file}" has no current cluster`);
  const c = named(doc, 'clusters', 'cluster', clusterName, file);
  const where = `kubeconfig "${file}" cluster ${clusterName}`;
  const server = str(c, 'server', where);
  if (!server) throw new ConfigError(`${where} has no server`);
  const userName = str(ctx, 'user', `kubeconfig "${file}" context ${current}`);
  const u = userName ? named(doc, 'users', 'user', userName, file) : {};
  const uw = `kubeconfig "${file}" user ${userName ?? ''}`;
  for (const unsupported of ['exec', 'auth-provider', 'username', 'password']) {
    if (u[unsupported] !== undefined) throw new ConfigError(`${uw}: ${unsupported} credentials are not supported by tessera-agent (use a token, tokenFile or a client certificate)`);
  }
  return {
    cluster: {
      server,
      caFile: str(c, 'certificate-authority', where),
      caData: str(c, 'certificate-authority-data', where),
      insecureSkipTlsVerify: c['insecure-skip-tls-verify'] === true,
      tlsServerName: str(c, 'tls-server-name', where),
    },
    user: {
      token: str(u, 'token', uw),
      tokenFile: str(u, 'tokenFile', uw),
      certFile: str(u, 'client-certificate', uw),
      certData: str(u, 'client-certificate-data', uw),
      keyFile: str(u, 'client-key', uw),
      keyData: str(u, 'client-key-data', uw),
    },
  };
}
