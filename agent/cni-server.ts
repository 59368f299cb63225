// The CNI server: a root-only unix socket; one JSON request line in, one JSON response line out, per connection.
// A RawRequest from the native tessera-cni runs the plugin logic (cni/run.ts) here, which calls the handler
// in-process under the same bound as an AgentRequest.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { runCni } from '../cni/run.js';
import {
  checkAgentRequest,
  checkRawRequest,
  CniErrorCode,
  MAX_LINE_BYTES,
  MAX_RAW_LINE_BYTES,
  type AgentRequest,
  type AgentResponse,
  type RawRequest,
  type RawResponse,
} from '../lib/cni-protocol.js';
import type { Logger } from '../lib/log.js';
import { AGENT_FAILURE } from './cni-deps.js';

export type RequestHandler = (req: AgentRequest) => Promise<AgentResponse>;

/** Added to a request's own timeouts to bound it: a stuck call must not hold a shim forever. */
const SLACK_MS = 10_000;

export async function startCniServer(path: string, handler: RequestHandler, log: Logger, opts: { slackMs?: number } = {}): Promise<Server> {
  const slackMs = opts.slackMs ?? SLACK_MS;
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  rmSync(path, { force: true }); // a stale socket of an earlier run
  // allowHalfOpen: a client that shuts down its write side after the request line still gets the answer.
  const server = createServer({ allowHalfOpen: true }, (sock) => serveCniConnection(sock, handler, log, slackMs));
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

/**
 * Runs the handler on a checked request, answering "try again" once the request's own waits plus slack are
 * over, or the caller's own bound if that is shorter.
 */
function bounded(req: unknown, handler: RequestHandler, slackMs: number, capMs = Infinity): Promise<AgentResponse> {
  const bad = checkAgentRequest(req);
  if (bad) return Promise.resolve({ ok: false, code: CniErrorCode.DecodeFailure, msg: bad });
  const r = req as AgentRequest;
  const limit = Math.min(capMs, Math.max(0, r.config.annotationTimeoutMs) + Math.max(0, r.config.ovnInstalledTimeoutMs) + slackMs);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<AgentResponse>((res) => {
    timer = setTimeout(() => res({ ok: false, code: CniErrorCode.TryAgainLater, msg: `${r.command} did not finish within ${limit} ms` }), limit);
  });
  const done = handler(r).catch((err: unknown): AgentResponse => ({ ok: false, code: AGENT_FAILURE, msg: err instanceof Error ? err.message : String(err) }));
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}

/** Serves one connection (exported for test doubles that wrap the server's framing). */
export function serveCniConnection(sock: Socket, handler: RequestHandler, log: Logger, slackMs = SLACK_MS): void {
  let buf = '';
  let done = false;
  const reply = (r: AgentResponse | RawResponse): void => {
    if (done) return;
    done = true;
    sock.end(JSON.stringify(r) + '\n');
  };
  sock.setEncoding('utf8');
  sock.on('error', (err) => log.debug('cni socket error', { error: err.message }));
  sock.on('data', (chunk: string) => {
    if (done) return;
    buf += chunk;
    const nl = buf.indexOf('\n');
    const limit = buf.startsWith('{"raw"') ? MAX_RAW_LINE_BYTES : MAX_LINE_BYTES;
    if ((nl < 0 ? buf.length : nl) > limit) return reply({ ok: false, code: CniErrorCode.DecodeFailure, msg: `request longer than ${limit} bytes` });
    if (nl < 0) return;
    const line = buf.slice(0, nl);
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch (err) {
      return reply({ ok: false, code: CniErrorCode.DecodeFailure, msg: `request is not JSON: ${(err as Error).message}` });
    }
    if (typeof req === 'object' && req !== null && 'raw' in req) {
      const bad = checkRawRequest(req as Record<string, unknown>);
      if (bad) return reply({ ok: false, code: CniErrorCode.DecodeFailure, msg: bad });
      const { env, stdin } = (req as RawRequest).raw;
      void runCni(env, stdin, (r, timeoutMs) => bounded(r, handler, slackMs, timeoutMs)).then(reply, (err: unknown) =>
        reply({ exitCode: 1, stdout: JSON.stringify({ cniVersion: '1.1.0', code: CniErrorCode.IoFailure, msg: `internal error: ${String(err)}` }) + '\n' }),
      );
      return;
    }
    void bounded(req, handler, slackMs).then(reply);
  });
  sock.on('end', () => {
    if (!done && buf.indexOf('\n') < 0) reply({ ok: false, code: CniErrorCode.DecodeFailure, msg: 'request line not terminated by a newline' });
  });
}
