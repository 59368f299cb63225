// Remotes ("unix:PATH", "tcp:HOST:PORT", "ssl:HOST:PORT") and opening a byte stream to one.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';

export type Remote = { kind: 'unix'; path: string; text: string } | { kind: 'tcp' | 'ssl'; host: string; port: number; text: string };

/** PEM text, or a path to a PEM file (as ovsdb-server's --private-key/--certificate/--ca-cert take). */
export interface TlsOptions {
  key: string;
  cert: string;
  ca: string;
}

export function parseRemote(text: string): Remote {
  const m = /^(unix|tcp|ssl):(.+)$/.exec(text.trim());
  if (!m) throw new Error(`remote ${JSON.stringify(text)}: expected unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT`);
  const kind = m[1] as 'unix' | 'tcp' | 'ssl';
  const rest = m[2]!;
  if (kind === 'unix') return { kind, path: rest, text };
  const hp = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(rest) ?? /^([^:[\]]+):(\d+)$/.exec(rest);
  if (!hp) throw new Error(`remote ${JSON.stringify(text)}: expected ${kind}:HOST:PORT (IPv6 as [addr]:port)`);
  const port = Number(hp[2]);
  if (port < 1 || port > 65535) throw new Error(`remote ${JSON.stringify(text)}: port ${port} out of range 1-65535`);
  return { kind, host: hp[1]!, port, text };
}

/** Splits a comma list ("tcp:a:6641,tcp:b:6641") as OVN's --db takes it. */
export function parseRemotes(list: string | string[]): Remote[] {
  const items = (Array.isArray(list) ? list : list.split(',')).map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new Error('no OVSDB remotes given');
  return items.map(parseRemote);
}

function pem(v: string, what: string): string {
  if (v.includes('-----BEGIN')) return v;
  try {
    return readFileSync(v, 'utf8');
  } catch (e) {
    throw new Error(`ssl ${what}: cannot read ${v}: ${(e as Error).message}`);
  }
}

/** Opens a connected socket, or rejects within timeoutMs with an error naming the remote. */
export function openStream(remote: Remote, tls: TlsOptions | undefined, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let sock: Socket;
    const readyEvent = remote.kind === 'ssl' ? 'secureConnect' : 'connect';
    try {
      if (remote.kind === 'unix') sock = netConnect({ path: remote.path });
      else if (remote.kind === 'tcp') sock = netConnect({ host: remote.host, port: remote.port });
      else {
        if (!tls) throw new Error(`remote ${remote.text}: ssl needs tls {key, cert, ca}`);
        sock = tlsConnect({
          host: remote.host,
          port: remote.port,
          key: pem(tls.key, 'private key'),
          cert: pem(tls.cert, 'certificate'),
          ca: pem(tls.ca, 'CA certificate'),
          // OVS PKI certificates name the entity, not the host: like OVS, trust the CA, not the host name.
          checkServerIdentity: () => undefined,
        });
      }
    } catch (e) {
      reject(e);
      return;
    }
    const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    const fail = (e: Error): void => {
      clearTimeout(timer);
      sock.removeAllListeners(readyEvent);
      sock.destroy();
      reject(new Error(`connect ${remote.text}: ${e.message}`));
    };
    sock.once('error', fail);
    sock.once(readyEvent, () => {
      clearTimeout(timer);
      sock.removeListener('error', fail);
      sock.setNoDelay?.(true);
      resolve(sock);
    });
  });
}
