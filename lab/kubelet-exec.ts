// The lab kubelet's exec endpoint, the one kube-apiserver proxies pods/exec to (kube-double/pod-connect.ts):
// GET /exec/<namespace>/<pod>/<container>?command=...&stdin=&stdout=&stderr= upgraded to a WebSocket with the
// v5.channel.k8s.io or v4.channel.k8s.io subprotocol. Channel bytes: 0 stdin, 1 stdout, 2 stderr, 3 the exit Status
// (JSON), and with v5 255 = close a stream (the client closing stdin). The command runs in the pod's netns.
import { spawn } from 'node:child_process';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { PodRuntime } from './kubelet-pods.js';
import { resolveCommand } from './kubelet-pods.js';
import { upgrade, type WsConn } from './websocket.js';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const STDIN = 0, STDOUT = 1, STDERR = 2, ERROR = 3, CLOSE = 255;

/** The Status a kubelet sends on the error channel for an exit code (or an error that kept the command from running). */
export function exitStatus(command: string[], code: number | Error): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  if (code instanceof Error) return { metadata: {}, status: 'Failure', message: code.message, reason: 'InternalError' };
  return { metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] } };
}

const chan = (n: number, data: Buffer | string): Buffer => Buffer.concat([Buffer.from([n]), Buffer.isBuffer(data) ? data : Buffer.from(data)]);

function finish(ws: WsConn, command: string[], code: number | Error): void {
  ws.send(chan(ERROR, JSON.stringify(exitStatus(command, code))));
  ws.close();
}

function runIn(ws: WsConn, netns: string, argv: string[], command: string[], q: URLSearchParams): void {
  const proc = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: '/usr/local/bin:/usr/bin:/bin' } });
  if (q.get('stdout') !== 'false') proc.stdout.on('data', (d: Buffer) => ws.send(chan(STDOUT, d)));
  if (q.get('stderr') !== 'false') proc.stderr.on('data', (d: Buffer) => ws.send(chan(STDERR, d)));
  if (q.get('stdin') === 'true') {
    ws.onMessage((m) => {
      if (m[0] === STDIN) proc.stdin.write(m.subarray(1));
      else if (m[0] === CLOSE && m[1] === STDIN) proc.stdin.end();
    });
  } else proc.stdin.end();
  ws.onClose(() => proc.exitCode === null && proc.kill('SIGKILL'));
  proc.once('error', (e) => finish(ws, command, e));
  proc.once('close', (code, signal) => finish(ws, command, code ?? (signal ? 128 + 9 : 1)));
}

/** The kubelet server's 'upgrade' handler. */
export function handleExec(runtime: PodRuntime, binDir: string, req: http.IncomingMessage, socket: Duplex): void {
  const url = new URL(req.url ?? '/', 'http://kubelet');
  const m = /^\/exec\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  const pod = m ? runtime.pods.get(`${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`) : undefined;
  if (!m || !pod || pod.container !== decodeURIComponent(m[3]) || !pod.proc || pod.proc.exitCode !== null) {
    socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\ncontainer not found (${url.pathname})\n`);
    return;
  }
  const ws = upgrade(req, socket, EXEC_PROTOCOLS);
  if (!ws) return;
  const command = url.searchParams.getAll('command');
  let argv: string[];
  try {
    argv = resolveCommand(command, binDir);
  } catch (err) {
    return finish(ws, command, new Error(`OCI runtime exec failed: exec failed: unable to start container process: ${(err as Error).message}: unknown`));
  }
  runIn(ws, pod.netns, argv, command, url.searchParams);
}
