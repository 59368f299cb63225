// The lab's side of the Kubernetes API test server: start it in the central netns; root-netns tools (the lab
// playing kubelet and controllers, tests) reach it over its unix socket with the test double's own client.
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, spawnDaemon } from './daemon.js';
import { GiveUp, waitFor } from './wait.js';
import { UnixKubeClient } from '../kube-double/unix-client.js';
import { deployRbacFiles, loadManifestFile, serviceAccountsOf } from '../kube-double/manifests.js';

export { UnixKubeClient, type KubeObject } from '../kube-double/unix-client.js';

export const APISERVER_PORT = 6443;

export interface ApiServerInfo {
  url: string;
  token: string;
  /** The token, mode 0600: daemons get this path, never the token on their command line. */
  tokenFile: string;
  unixSocket: string;
  /**
   * Token files of the service accounts in deploy/<component>/rbac.yaml, by name (tessera-watcher, tessera-agent,
   * tessera-gateway): the daemons use these, so the double holds them to the RBAC a real cluster would.
   */
  serviceAccountTokenFiles: Record<string, string>;
}

/** The token file of a Tessera service account (deploy/<component>/rbac.yaml), e.g. 'tessera-agent'. */
export function serviceAccountTokenFile(api: { serviceAccountTokenFiles?: Record<string, string> }, name: string): string {
  const f = api.serviceAccountTokenFiles?.[name];
  if (!f) throw new Error(`no token for service account ${name}: is it in a deploy/*/rbac.yaml?`);
  return f;
}

export function kubeClient(api: ApiServerInfo): UnixKubeClient {
  return new UnixKubeClient(api.unixSocket, { token: api.token, timeoutMs: 10_000 });
}

export const podPath = (ns: string, name: string): string => `/api/v1/namespaces/${ns}/pods/${name}`;
export const nodePath = (name: string): string => `/api/v1/nodes/${name}`;

/** Writes a secret readable by root only (written to a fresh name, then renamed over, so readers see old or new). */
export function writeTokenFile(path: string, token: string): void {
  writeFileSync(`${path}.tmp`, token, { mode: 0o600 });
  chmodSync(`${path}.tmp`, 0o600);
  renameSync(`${path}.tmp`, path);
}

/** Starts the API test server in the central netns (TCP on the central IP, unix socket for root-netns tools). */
export async function startApiServer(o: { repoRoot: string; dir: string; netns: string; ip: string; unixSocket: string; kubeletSocket?: string }): Promise<ApiServerInfo> {
  const token = randomBytes(16).toString('hex');
  const tokenFile = join(o.dir, 'apiserver.token');
  writeTokenFile(tokenFile, token);
  const rbacFiles = deployRbacFiles(o.repoRoot);
  const serviceAccountTokenFiles: Record<string, string> = {};
  const saArgs: string[] = [];
  for (const [name, user] of serviceAccountsOf(rbacFiles.flatMap(loadManifestFile))) {
    const file = join(o.dir, `${name}.token`);
    writeTokenFile(file, randomBytes(16).toString('hex'));
    serviceAccountTokenFiles[name] = file;
    saArgs.push('--service-account-token', `${user.name.split(':').slice(2).join('/')}=${file}`);
  }
  const pid = spawnDaemon({
    dir: o.dir, name: 'apiserver', netns: o.netns, cwd: o.repoRoot, cmd: process.execPath,
    args: ['--import', 'tsx', join(o.repoRoot, 'kube-double', 'main.ts'), '--listen', `${o.ip}:${APISERVER_PORT}`,
      '--unix', o.unixSocket, '--token-file', tokenFile, '--log-file', join(o.dir, 'apiserver-requests.log'),
      ...rbacFiles.flatMap((f) => ['--manifest-file', f]), ...saArgs, ...(o.kubeletSocket ? ['--kubelet-socket', o.kubeletSocket] : [])],
  });
  const log = join(o.dir, 'apiserver.log');
  await waitFor('the API test server to print ready', () => {
    if (!alive(pid)) throw new GiveUp(`the API test server exited: ${readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ')}`);
    return /^ready /m.test(readFileSync(log, 'utf8'));
  }, 20_000);
  return { url: `http://${o.ip}:${APISERVER_PORT}`, token, tokenFile, unixSocket: o.unixSocket, serviceAccountTokenFiles };
}
