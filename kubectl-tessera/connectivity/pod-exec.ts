// A command in a pod through the pods/exec subresource (the Kubernetes exec protocol over WebSocket,
// v5/v4.channel.k8s.io, as client-node's Exec speaks it), collected into an ExecResult.
// client-node's Exec resolves once the socket is open; the exit comes later as a Status on channel 3 (Success, or
// Failure with details.causes[{reason: ExitCode}]), after which it closes. A socket that closes without a Status
// (the kubelet or the proxy went away) is an error here, never a success.
import { Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import WebSocket from 'isomorphic-ws';
import type { ExecResult } from '../exec.js';

export type PodExec = (namespace: string, pod: string, container: string, command: string[], timeoutMs: number) => Promise<ExecResult>;

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** The exit code a pods/exec Status carries: 0 on Success, the ExitCode cause on Failure, else undefined. */
export function exitCodeOf(s: V1Status): number | undefined {
  if (s.status === 'Success') return 0;
  const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
  const n = Number(cause?.message);
  return cause && Number.isInteger(n) ? n : undefined;
}

export function podExec(kc: KubeConfig, exec: Exec = new Exec(kc)): PodExec {
  return (namespace, pod, container, command, timeoutMs) => new Promise<ExecResult>((resolve) => {
    const out = new Collect();
    const err = new Collect();
    let settled = false;
    const finish = (r: ExecResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => finish({ code: 124, stdout: out.text, stderr: `${err.text}exec in ${namespace}/${pod}: no exit status within ${timeoutMs} ms` }), timeoutMs);
    exec.exec(namespace, pod, container, command, out, err, null, false, (status: V1Status) => {
      const code = exitCodeOf(status);
      finish({ code: code ?? 1, stdout: out.text, stderr: code === undefined ? `${err.text}exec in ${namespace}/${pod}: ${status.message ?? status.reason ?? 'failed'}` : err.text });
    }).then((ws) => {
      ws.on('close', () => setImmediate(() => finish({ code: 1, stdout: out.text, stderr: `${err.text}exec in ${namespace}/${pod}: the connection closed without an exit status` })));
    }, (e: unknown) => finish({ code: 1, stdout: out.text, stderr: `exec in ${namespace}/${pod}: ${describeWsError(e)}` }));
  });
}

/** pods/exec to an API server on a unix socket (the lab's, whose TCP listener lives in a netns): ws's ws+unix: URL. */
export function unixSocketExec(kc: KubeConfig, socketPath: string): PodExec {
  const handler = new WebSocketHandler(kc, (uri, protocols, opts) => {
    const u = new URL(uri);
    return new WebSocket(`ws+unix://${socketPath}:${u.pathname}${u.search}`, protocols, opts);
  });
  return podExec(kc, new Exec(kc, handler));
}

/** ws reports a refused upgrade as "Unexpected server response: 403"; the status is what the user needs. */
function describeWsError(e: unknown): string {
  const msg = e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  const m = /Unexpected server response: (\d+)/.exec(msg);
  if (m?.[1] === '403') return `${msg} (Forbidden: the user needs "create" on pods/exec in this namespace)`;
  return msg;
}
