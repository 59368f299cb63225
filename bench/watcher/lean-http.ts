// The bench's load generator: a minimal HTTP/1.1 keep-alive client over plain sockets. On this 2-core
// machine the generator shares the CPU with the API test double and the watcher it measures, and
// node:http's client costs about 0.5 ms of CPU per request; this one costs a fraction of that, so more
// of the machine goes to what is measured. It speaks only what the API test double answers with: one
// request at a time per connection, responses framed by Content-Length.
import net from 'node:net';

export interface LeanResponse {
  status: number;
  body: string;
}

interface Pending {
  resolve: (r: LeanResponse) => void;
  reject: (e: Error) => void;
}

class Connection {
  private readonly sock: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;
  private failed: Error | undefined;

  constructor(host: string, port: number) {
    this.sock = net.connect({ host, port, noDelay: true });
    this.sock.on('data', (d: Buffer) => this.onData(d));
    this.sock.on('error', (e) => this.fail(e));
    this.sock.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  send(head: string, body: string | undefined): Promise<LeanResponse> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.pending) return Promise.reject(new Error('lean-http: one request at a time per connection'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.sock.write(body === undefined ? head : head + body);
    });
  }

  close(): void {
    this.sock.destroy();
  }

  private fail(e: Error): void {
    this.failed ??= e;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buf.toString('latin1', 0, end);
    const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
    const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!m || !cl) return this.fail(new Error(`lean-http: unsupported response (no status or Content-Length): ${head.slice(0, 120)}`));
    const len = Number(cl[1]);
    if (this.buf.length < end + 4 + len) return;
    const body = this.buf.toString('utf8', end + 4, end + 4 + len);
    this.buf = this.buf.subarray(end + 4 + len);
    const p = this.pending;
    this.pending = undefined;
    p?.resolve({ status: Number(m[1]), body });
  }
}

/** `size` keep-alive connections, opened up front; a request waits for a free one. */
export class LeanHttpPool {
  private readonly conns: Connection[];
  private readonly waiting: Array<(c: Connection) => void> = [];
  private readonly idle: Connection[];

  constructor(url: string, size: number, private readonly token: string) {
    const u = new URL(url);
    if (u.protocol !== 'http:') throw new Error(`lean-http: only http:// URLs (got ${url})`);
    this.conns = Array.from({ length: size }, () => new Connection(u.hostname, Number(u.port || 80)));
    this.idle = [...this.conns];
  }

  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<LeanResponse> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const head =
      `${method} ${path} HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${this.token}\r\nAccept: application/json\r\n` +
      (data === undefined ? '\r\n' : `Content-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(data)}\r\n\r\n`);
    const c = this.idle.pop() ?? (await new Promise<Connection>((r) => this.waiting.push(r)));
    try {
      return await c.send(head, data);
    } finally {
      const next = this.waiting.shift();
      if (next) next(c);
      else this.idle.push(c);
    }
  }

  /** POST that must succeed (the created object is not parsed: the load generator does not need it). */
  async create(collectionPath: string, obj: unknown): Promise<void> {
    const r = await this.request('POST', collectionPath, obj);
    if (r.status !== 201 && r.status !== 200) throw new Error(`POST ${collectionPath}: HTTP ${r.status}: ${r.body.slice(0, 200)}`);
  }

  /** Resolves once every connection has answered a request, so the burst does not pay for connection set-up. */
  async warm(): Promise<void> {
    await Promise.all(this.conns.map(() => this.request('GET', '/version')));
  }

  close(): void {
    for (const c of this.conns) c.close();
  }
}
