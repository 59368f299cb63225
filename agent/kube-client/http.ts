// The agent's Kubernetes requests over node:http(s): JSON requests (list, get, patch) and watch streams, on one
// keep-alive pool that verifies the server against the cluster CA. The bearer token is read before every request
// (it rotates); a 401 invalidates it and the request is sent once more with the file read again.
import http from 'node:http';
import https from 'node:https';
import type { KubeAccess } from './access.js';

/** A non-2xx answer: `code` is the HTTP status, the message the Status's (or the status line). */
export class KubeApiError extends Error {
  constructor(readonly code: number, message: string, readonly reason?: string) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** The HTTP status of a failed request, if it got one (for log lines). */
export function kubeErrorCode(err: unknown): number | undefined {
  return err instanceof KubeApiError ? err.code : undefined;
}

/** The watch died without a line for this long: the connection is presumed dead (as client-node's 30 s). */
export const WATCH_IDLE_MS = 30_000;
const REQUEST_TIMEOUT_MS = 30_000;

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export type Query = Record<string, string | undefined>;

/** The message of a Status body, else the status line. */
function apiError(status: number, text: string): KubeApiError {
  try {
    const s = JSON.parse(text) as { message?: string; reason?: string };
    if (typeof s.message === 'string') return new KubeApiError(status, s.message, s.reason);
  } catch {
    // not a Status: use the status line
  }
  return new KubeApiError(status, http.STATUS_CODES[status] ?? `HTTP ${status}`);
}

export class KubeHttp {
  private readonly agent: http.Agent;
  private readonly mod: typeof http | typeof https;

  constructor(readonly access: KubeAccess) {
    const tls = access.server.protocol === 'https:';
    this.mod = tls ? https : http;
    const pool = { keepAlive: true, maxSockets: 8 };
    this.agent = tls ? new https.Agent({ ...pool, ...access.tls }) : new http.Agent(pool);
  }

  /** A JSON request; rejects with KubeApiError on a non-2xx answer. */
  async request<T>(method: string, path: string, opts: { query?: Query; body?: unknown; contentType?: string } = {}): Promise<T> {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const send = () => this.send(method, this.url(path, opts.query), body, opts.contentType);
    let r = await send();
    if (r.status === 401 && this.access.tokenFile) {
      this.access.tokenFile.invalidate();
      r = await send();
    }
    if (r.status < 200 || r.status > 299) throw apiError(r.status, r.text);
    return JSON.parse(r.text) as T;
  }

  /**
   * Opens a watch; resolves once the server answered 200 (events then go to `onEvent`) and rejects otherwise
   * (KubeApiError). `onDone` is called once when an open stream ends: null when the server closed it, else the
   * error (an idle timeout is a KubeApiError-free `Error` named TimeoutError). The returned function aborts it.
   */
  async watch<T>(path: string, query: Query, onEvent: (ev: WatchEvent<T>) => void, onDone: (err: Error | null) => void): Promise<() => void> {
    const url = this.url(path, { ...query, watch: 'true' });
    let res = await this.open(url);
    if (res.statusCode === 401 && this.access.tokenFile) {
      res.resume();
      this.access.tokenFile.invalidate();
      res = await this.open(url);
    }
    if (res.statusCode !== 200) throw apiError(res.statusCode ?? 0, await readAll(res));
    return this.stream(res, onEvent, onDone);
  }

  private stream<T>(res: http.IncomingMessage, onEvent: (ev: WatchEvent<T>) => void, onDone: (err: Error | null) => void): () => void {
    let done = false;
    let buf = '';
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      res.destroy();
      onDone(err);
    };
    const timeout = (): void => finish(Object.assign(new Error(`watch idle for ${WATCH_IDLE_MS} ms`), { name: 'TimeoutError' }));
    let idle = setTimeout(timeout, WATCH_IDLE_MS);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      idle.refresh();
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0 && !done; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        let ev: WatchEvent<T>;
        try {
          ev = JSON.parse(line) as WatchEvent<T>;
        } catch {
          finish(new Error(`watch: a line that is not JSON: ${line.slice(0, 80)}`));
          return;
        }
        onEvent(ev);
      }
    });
    res.on('end', () => finish(null));
    res.on('error', (err) => finish(err));
    res.on('close', () => finish(res.complete ? null : new Error('watch connection closed')));
    return () => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      res.destroy();
    };
  }

  private url(path: string, query: Query = {}): URL {
    const u = new URL(this.access.server.href.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, v);
    return u;
  }

  private headers(extra: Record<string, string | number> = {}): Record<string, string | number> {
    const h: Record<string, string | number> = { Accept: 'application/json', 'User-Agent': 'tessera-agent', ...extra };
    const token = this.access.token();
    if (token) h.Authorization = `Bearer ${token}`;
    return h;
  }

  private open(url: URL): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = this.mod.request(url, { method: 'GET', agent: this.agent, headers: this.headers(), timeout: REQUEST_TIMEOUT_MS }, resolve);
      req.on('timeout', () => req.destroy(new Error(`GET ${url.pathname}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  private send(method: string, url: URL, body: string | undefined, contentType = 'application/json'): Promise<{ status: number; text: string }> {
    const extra: Record<string, string | number> = body === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) };
    return new Promise((resolve, reject) => {
      const req = this.mod.request(url, { method, agent: this.agent, headers: this.headers(extra), timeout: REQUEST_TIMEOUT_MS }, (res) => {
        readAll(res).then((text) => resolve({ status: res.statusCode ?? 0, text }), reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.on('end', () => resolve(text));
    res.on('error', reject);
  });
}
