// The CNI server: a root-only unix socket; one JSON request line in, one JSON response line out, per connection.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { checkAgentRequest, CniErrorCode, MAX_LINE_BYTES, type AgentRequest, type AgentResponse } from '../lib/cni-protocol.js';
import type { Logger } from '../lib/log.js';

export type RequestHandler = (req: AgentRequest) => Promise<AgentResponse>;

/** Added to a request's own timeouts to bound it: a stuck call must not hold a shim forever. */
const SLACK_MS = 10_000;

export async function startCniServer(path: string, handler: RequestHandler, log: Logger, opts: { slackMs?: number } = {}): Promise<Server> {
  const slackMs = opts.slackMs ?? SLACK_MS;
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  rmSync(path, { force: true }); // a stale socket of an earlier run
  // allowHalfOpen: a client that shuts down its write side after the request line still gets the answer.
  const server = createServer({ allowHalfOpen: true }, (sock) => serve(sock, handler, log, slackMs));
  const oldMask = process.umask(0o177); // the socket file is created 0600 from the start, no window
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(oldMask);
  }
  chmodSync(path, 0o600);
  return server;
}

function serve(sock: Socket, handler: RequestHandler, log: Logger, slackMs: number): void {
  let buf = '';
  let done = false;
  const reply = (r: AgentResponse): void => {
    if (done) return;
    done = true;
    sock.end(JSON.stringify(r) + '\n');
  };
  sock.setEncoding('utf8');
  sock.on('error', (err) => log.debug('cni socket error', { error: err.message }));
  sock.on('data', (chunk: string) => {
    if (done) return;
    buf += chunk;
    if (buf.length > MAX_LINE_BYTES) return reply({ ok: false, code: CniErrorCode.DecodeFailure, msg: `request longer than ${MAX_LINE_BYTES} bytes` });
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    const line = buf.slice(0, nl);
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch (err) {
      return reply({ ok: false, code: CniErrorCode.DecodeFailure, msg: `request is not JSON: ${(err as Error).message}` });
    }
    const bad = checkAgentRequest(req);
    if (bad) return reply({ ok: false, code: CniErrorCode.DecodeFailure, msg: bad });
    const r = req as AgentRequest;
    const limit = Math.max(0, r.config.annotationTimeoutMs) + Math.max(0, r.config.ovnInstalledTimeoutMs) + slackMs;
    const timer = setTimeout(() => reply({ ok: false, code: CniErrorCode.TryAgainLater, msg: `${r.command} did not finish within ${limit} ms` }), limit);
    handler(r)
      .then(reply, (err: unknown) => reply({ ok: false, code: 100, msg: err instanceof Error ? err.message : String(err) }))
      .finally(() => clearTimeout(timer));
  });
  sock.on('end', () => {
    if (!done && buf.indexOf('\n') < 0) reply({ ok: false, code: CniErrorCode.DecodeFailure, msg: 'request line not terminated by a newline' });
  });
}
