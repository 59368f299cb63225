// The lab's side of the Kubernetes API test server: start it in the central netns, and a small REST client
// over its unix socket (root-netns tools cannot reach the central netns IP) to play kubelet/controllers.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, spawnDaemon } from './daemon.js';
import { GiveUp, waitFor } from './wait.js';

export const APISERVER_PORT = 6443;

export interface ApiServerInfo {
  url: string;
  token: string;
  unixSocket: string;
}

export class KubeRestError extends Error {
  constructor(readonly status: number, method: string, path: string, body: string) {
    super(`${method} ${path}: HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

export interface KubeMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeMeta;
  spec?: object;
  status?: object;
}

export class KubeRest {
  constructor(readonly socketPath: string, readonly token: string) {}

  request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request({
        socketPath: this.socketPath, path, method, timeout: 10_000,
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...(data ? { 'content-type': contentType, 'content-length': Buffer.byteLength(data) } : {}) },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) reject(new KubeRestError(status, method, path, text));
          else resolve((text ? JSON.parse(text) : {}) as T);
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  create<T extends KubeObject>(collectionPath: string, obj: T): Promise<T> {
    return this.request<T>('POST', collectionPath, obj);
  }
  get<T extends KubeObject>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  mergePatch<T extends KubeObject>(path: string, patch: object): Promise<T> {
    return this.request<T>('PATCH', path, patch, 'application/merge-patch+json');
  }
}

export const podPath = (ns: string, name: string): string => `/api/v1/namespaces/${ns}/pods/${name}`;
export const nodePath = (name: string): string => `/api/v1/nodes/${name}`;

/** Starts the API test server in the central netns (TCP on the central IP, unix socket for root-netns tools). */
export async function startApiServer(o: { repoRoot: string; dir: string; netns: string; ip: string; unixSocket: string }): Promise<ApiServerInfo> {
  const token = randomBytes(16).toString('hex');
  const pid = spawnDaemon({
    dir: o.dir, name: 'apiserver', netns: o.netns, cwd: o.repoRoot, cmd: process.execPath,
    args: ['--import', 'tsx', join(o.repoRoot, 'test', 'apiserver', 'main.ts'), '--listen', `${o.ip}:${APISERVER_PORT}`,
      '--unix', o.unixSocket, '--token', token, '--log-file', join(o.dir, 'apiserver-requests.log')],
  });
  const log = join(o.dir, 'apiserver.log');
  await waitFor('the API test server to print ready', () => {
    if (!alive(pid)) throw new GiveUp(`the API test server exited: ${readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ')}`);
    return /^ready /m.test(readFileSync(log, 'utf8'));
  }, 20_000);
  return { url: `http://${o.ip}:${APISERVER_PORT}`, token, unixSocket: o.unixSocket };
}
