// A small typed REST client for root-netns tools (lab harness, e2e tests) that reach the API test
// double through its unix socket while its TCP listener lives inside a netns. It also accepts an
// http:// URL. No @kubernetes/client-node here: it loads in a few milliseconds.
import http from 'node:http';
import type { KubeObject } from './resources.js';
import type { Status } from './status.js';

export type { KubeObject } from './resources.js';

export interface KubeList<T extends KubeObject = KubeObject> {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: Status | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** REST path of a collection or object: apiPath('v1', 'pods', 'default', 'p1'), apiPath('kubeovn.io/v1', 'subnets'). */
export function apiPath(apiVersion: string, plural: string, namespace?: string, name?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

const PATCH_CONTENT_TYPE = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
} as const;

function query(opts: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(opts)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

export class UnixKubeClient {
  private readonly base: http.RequestOptions;
  private readonly timeoutMs: number;

  /** `target`: a unix socket path, or an http://host:port URL. */
  constructor(
    target: string,
    private readonly opts: { token?: string; timeoutMs?: number } = {},
  ) {
    if (target.startsWith('http://')) {
      const u = new URL(target);
      this.base = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80) };
    } else {
      this.base = { socketPath: target.replace(/^unix:/, '') };
    }
    this.timeoutMs = opts.timeoutMs ?? 10000;
  }

  private headers(contentType?: string): http.OutgoingHttpHeaders {
    return { Accept: 'application/json', ...(contentType ? { 'Content-Type': contentType } : {}), ...(this.opts.token ? { Authorization: `Bearer ${this.opts.token}` } : {}) };
  }

  /** One request; a non-2xx answer rejects with KubeApiError carrying the server's Status. */
  request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request({ ...this.base, method, path, headers: this.headers(data === undefined ? undefined : contentType), timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) resolve(parsed as T);
          else {
            const st = parsed as Status | undefined;
            reject(new KubeApiError(code, st, `${method} ${path}: ${code} ${st?.reason ?? ''} ${st?.message ?? text}`.trim()));
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  get<T extends KubeObject>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  list<T extends KubeObject>(collectionPath: string, opts: ListOptions = {}): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', collectionPath + query({ labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector }));
  }

  create<T extends KubeObject>(collectionPath: string, obj: T): Promise<T> {
    return this.request<T>('POST', collectionPath, obj);
  }

  update<T extends KubeObject>(path: string, obj: T): Promise<T> {
    return this.request<T>('PUT', path, obj);
  }

  patch<T extends KubeObject>(path: string, patch: unknown, type: keyof typeof PATCH_CONTENT_TYPE = 'merge'): Promise<T> {
    return this.request<T>('PATCH', path, patch, PATCH_CONTENT_TYPE[type]);
  }

  delete(path: string): Promise<unknown> {
    return this.request('DELETE', path);
  }

  /**
   * Resolves with the first object of the collection for which `pred` holds: among the current objects
   * (as ADDED) or in later watch events. Rejects after `timeoutMs`.
   */
  async watchUntil<T extends KubeObject>(collectionPath: string, pred: (type: WatchEventType, obj: T) => boolean, opts: ListOptions & { timeoutMs?: number } = {}): Promise<T> {
    const list = await this.list<T>(collectionPath, opts);
    for (const o of list.items) if (pred('ADDED', o)) return o;
    const timeoutMs = opts.timeoutMs ?? 30000;
    return new Promise<T>((resolve, reject) => {
      let rv = list.metadata.resourceVersion;
      let done = false;
      let req: http.ClientRequest | undefined;
      const finish = (err: Error | undefined, obj?: T) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        req?.destroy();
        if (err) reject(err);
        else resolve(obj as T);
      };
      const timer = setTimeout(() => finish(new Error(`watchUntil ${collectionPath}: condition not met within ${timeoutMs} ms`)), timeoutMs);
      const connect = () => {
        const path = collectionPath + query({ watch: 'true', resourceVersion: rv, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, allowWatchBookmarks: 'true' });
        req = http.request({ ...this.base, method: 'GET', path, headers: this.headers() }, (res) => {
          if (res.statusCode !== 200) {
            finish(new KubeApiError(res.statusCode ?? 0, undefined, `watch ${collectionPath}: HTTP ${res.statusCode}`));
            return;
          }
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              if (!line.trim()) continue;
              const ev = JSON.parse(line) as { type: string; object: T & Partial<Status> };
              if (ev.type === 'ERROR') {
                finish(new KubeApiError(ev.object.code ?? 0, ev.object as unknown as Status, `watch ${collectionPath}: ${ev.object.message ?? 'error'}`));
                return;
              }
              if (ev.object.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
              if (ev.type !== 'BOOKMARK' && pred(ev.type as WatchEventType, ev.object)) {
                finish(undefined, ev.object);
                return;
              }
            }
          });
          // The server ended the stream (timeout, restart): resume from the last version seen.
          res.on('end', () => {
            if (!done) setTimeout(connect, 100);
          });
        });
        req.on('error', (err) => {
          if (!done) setTimeout(connect, 200);
          void err;
        });
        req.end();
      };
      connect();
    });
  }
}
