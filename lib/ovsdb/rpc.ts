// One JSON-RPC 1.0 session over one stream: request/response matching, answers to the
// server's echo, notifications, and an inactivity probe (echo after idle; drop if still silent).
import type { Socket } from 'node:net';
import { JsonFramer } from './framing.js';
import { OvsdbDisconnectedError, OvsdbRpcError, OvsdbTimeoutError } from './errors.js';
import { isObj } from './schema.js';

export interface RpcEvents {
  notification(method: string, params: unknown[]): void;
  /** Called once, when the session ends for any reason. */
  closed(reason: Error): void;
}

interface Pending {
  method: string;
  /** Runs synchronously on the reply, before any later message is dispatched. */
  onReply: ((result: unknown) => void) | undefined;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export class RpcSession {
  private readonly framer = new JsonFramer();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private lastRx = Date.now();
  private probeSentAt = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private closedReason: Error | undefined;

  constructor(
    private readonly sock: Socket,
    readonly remote: string,
    private readonly events: RpcEvents,
    probeIntervalMs: number,
  ) {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (e) => this.close(new OvsdbDisconnectedError(`connection to ${remote}: ${e.message}`)));
    sock.on('close', () => this.close(new OvsdbDisconnectedError(`connection to ${remote} closed by peer`)));
    if (probeIntervalMs > 0) {
      this.probeTimer = setInterval(() => this.probe(probeIntervalMs), Math.max(50, probeIntervalMs / 2));
      this.probeTimer.unref();
    }
  }

  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  /**
   * Sends a request. `onReply`, if given, runs synchronously when the reply is dispatched, so
   * state derived from it (a monitor's initial rows) is in place before the notifications
   * that follow it in the same chunk; if it throws, the request rejects with that error.
   */
  request(method: string, params: unknown[], timeoutMs: number, onReply?: (result: unknown) => void): Promise<unknown> {
    if (this.closedReason) return Promise.reject(new OvsdbDisconnectedError(`${method}: not connected (${this.closedReason.message})`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const p: Pending = { method, onReply, resolve, reject, timer: undefined };
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new OvsdbTimeoutError(`${method} on ${this.remote}: no reply within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.pending.set(id, p);
      this.send({ method, params, id });
    });
  }

  close(reason: Error): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.sock.destroy();
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new OvsdbDisconnectedError(`${p.method}: ${reason.message}`));
    }
    this.pending.clear();
    this.events.closed(reason);
  }

  private send(msg: object): void {
    if (this.closedReason) return;
    this.sock.write(JSON.stringify(msg));
  }

  private probe(intervalMs: number): void {
    const now = Date.now();
    if (now - this.lastRx < intervalMs) return;
    if (this.probeSentAt === 0) {
      this.probeSentAt = now;
      // Any traffic counts as liveness; the echo reply itself is ignored.
      this.request('echo', [], 0).catch(() => undefined);
    } else if (now - this.probeSentAt >= intervalMs) {
      this.close(new OvsdbDisconnectedError(`inactivity probe: ${this.remote} silent for ${now - this.lastRx} ms`));
    }
  }

  private onData(chunk: Buffer): void {
    this.lastRx = Date.now();
    this.probeSentAt = 0;
    let msgs: unknown[];
    try {
      msgs = this.framer.push(chunk);
    } catch (e) {
      this.close(new OvsdbDisconnectedError(`protocol error from ${this.remote}: ${(e as Error).message}`));
      return;
    }
    for (const m of msgs) {
      if (this.closedReason) return;
      this.dispatch(m);
    }
  }

  private dispatch(m: unknown): void {
    if (!isObj(m)) {
      this.close(new OvsdbDisconnectedError(`protocol error from ${this.remote}: message is not an object`));
      return;
    }
    if (typeof m.method === 'string') {
      const params = Array.isArray(m.params) ? (m.params as unknown[]) : [];
      if (m.id === null || m.id === undefined) {
        this.events.notification(m.method, params);
      } else if (m.method === 'echo') {
        this.send({ id: m.id, result: params, error: null });
      } else {
        this.send({ id: m.id, result: null, error: `unknown method ${m.method}` });
      }
      return;
    }
    if (typeof m.id !== 'number') return; // a reply to nothing we sent (e.g. a stale id): ignore
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (p.timer) clearTimeout(p.timer);
    if (m.error !== null && m.error !== undefined) {
      p.reject(new OvsdbRpcError(p.method, m.error));
      return;
    }
    if (p.onReply) {
      try {
        p.onReply(m.result);
      } catch (e) {
        p.reject(e as Error);
        return;
      }
    }
    p.resolve(m.result);
  }
}
