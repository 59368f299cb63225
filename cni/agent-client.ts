// One request to the tessera-agent CNI server: connect to its unix socket, write one JSON line, read one
// JSON line, close. Bounded by a timeout. Unreachable agent (socket missing or refused) is
// AgentUnreachableError (code 11, try again later); a broken answer is an I/O failure (code 5).
import { createRequire } from 'node:module';
import { MAX_LINE_BYTES, type AgentRequest, type AgentResponse } from '../lib/cni-protocol.js';
import { AgentUnreachableError, CniError, CniErrorCode } from './errors.js';

/**
 * `net` is loaded on first use, not at the top: it is the costliest import of the shim (~10 ms) and only
 * agent calls need it. require, not import(): a SEA main script has no dynamic-import callback.
 */
function loadNet(): typeof import('node:net') {
  return createRequire(import.meta.url)('node:net') as typeof import('node:net');
}

const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'ECONNRESET']);

/** Timings of the last agent call, for the log line: time to connect and the whole round trip. */
export const agentTiming = { connectMs: NaN, totalMs: NaN };

export async function callAgent(socketPath: string, req: AgentRequest, timeoutMs: number): Promise<AgentResponse> {
  const t0 = process.hrtime.bigint();
  const since = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
  const { createConnection } = loadNet();
  return new Promise<AgentResponse>((resolve, reject) => {
    let connected = false;
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const sock = createConnection({ path: socketPath });
    const finish = (err: Error | undefined, res?: AgentResponse): void => {
      if (settled) return;
      settled = true;
      agentTiming.totalMs = since();
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(res as AgentResponse);
    };
    const settle = (): void => {
      try {
        finish(undefined, decodeResponse(Buffer.concat(chunks).toString('utf8'), socketPath));
      } catch (e) {
        finish(e as Error);
      }
    };
    const timer = setTimeout(() => {
      finish(
        connected
          ? new CniError(CniErrorCode.TryAgainLater, `no answer from tessera-agent at ${socketPath} within ${timeoutMs} ms for ${req.command}`)
          : new AgentUnreachableError(`tessera-agent at ${socketPath} did not accept the connection within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    sock.on('connect', () => {
      connected = true;
      agentTiming.connectMs = since();
      sock.write(JSON.stringify(req) + '\n');
    });
    sock.on('data', (d: Buffer) => {
      const nl = d.indexOf(0x0a);
      chunks.push(nl >= 0 ? d.subarray(0, nl) : d);
      size += d.length;
      if (nl >= 0) settle();
      else if (size > MAX_LINE_BYTES) finish(new CniError(CniErrorCode.IoFailure, `answer from tessera-agent exceeds ${MAX_LINE_BYTES} bytes`));
    });
    sock.on('end', () => {
      if (size === 0) finish(new CniError(CniErrorCode.IoFailure, `tessera-agent at ${socketPath} closed the connection without answering ${req.command}`));
      else settle();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (!connected && e.code && UNREACHABLE.has(e.code)) {
        finish(new AgentUnreachableError(`tessera-agent is not reachable at ${socketPath} (${e.code}): is the tessera-agent pod running on this node?`));
      } else {
        finish(new CniError(CniErrorCode.IoFailure, `talking to tessera-agent at ${socketPath}: ${e.message}`));
      }
    });
  });
}

/** Parses and shape-checks one answer line. */
function decodeResponse(line: string, socketPath: string): AgentResponse {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new CniError(CniErrorCode.IoFailure, `tessera-agent at ${socketPath} answered with invalid JSON: ${(e as Error).message}`);
  }
  const r = v as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null || typeof r.ok !== 'boolean') {
    throw new CniError(CniErrorCode.IoFailure, `tessera-agent at ${socketPath} answered without a boolean "ok"`);
  }
  if (r.ok === false && (typeof r.code !== 'number' || typeof r.msg !== 'string')) {
    throw new CniError(CniErrorCode.IoFailure, `tessera-agent at ${socketPath} answered an error without numeric "code" and string "msg"`);
  }
  return r as unknown as AgentResponse;
}
