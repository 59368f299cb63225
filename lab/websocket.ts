// The server side of RFC 6455, as much as the lab kubelet's exec needs: the handshake (with subprotocol choice),
// binary frames out (unmasked, as a server sends), client frames in (masked; fragments joined; ping answered; close).
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface WsConn {
  protocol: string;
  send(data: Buffer): void;
  close(code?: number): void;
  onMessage(f: (data: Buffer) => void): void;
  onClose(f: () => void): void;
}

/** The handshake answer, or an error message (the caller answers 400) when the request is no WebSocket upgrade. */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** Encodes one final, unmasked frame. */
export function frame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, n]) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (n >= 126 && n < 65536) {
    head[0] = 0x80 | opcode; head[1] = 126; head.writeUInt16BE(n, 2);
  } else if (n >= 65536) {
    head[0] = 0x80 | opcode; head[1] = 127; head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}

/** Parses complete frames off the front of `buf`; returns them and what is left. */
export function parseFrames(buf: Buffer): { frames: Array<{ fin: boolean; opcode: number; payload: Buffer }>; rest: Buffer } {
  const frames: Array<{ fin: boolean; opcode: number; payload: Buffer }> = [];
  let off = 0;
  for (;;) {
    if (buf.length - off < 2) break;
    const b0 = buf[off];
    const b1 = buf[off + 1];
    let len = b1 & 0x7f;
    let p = off + 2;
    if (len === 126) {
      if (buf.length < p + 2) break;
      len = buf.readUInt16BE(p); p += 2;
    } else if (len === 127) {
      if (buf.length < p + 8) break;
      len = Number(buf.readBigUInt64BE(p)); p += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    const mask = masked ? buf.subarray(p, p + 4) : undefined;
    if (masked) p += 4;
    if (buf.length < p + len) break;
    const payload = Buffer.from(buf.subarray(p, p + len));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload });
    off = p + len;
  }
  return { frames, rest: buf.subarray(off) };
}

/** Completes the upgrade with the first of `supported` the client offers; undefined after answering 400 otherwise. */
export function upgrade(req: IncomingMessage, socket: Duplex, supported: string[]): WsConn | undefined {
  const key = req.headers['sec-websocket-key'];
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
  const protocol = supported.find((p) => offered.includes(p));
  if (typeof key !== 'string' || String(req.headers.upgrade).toLowerCase() !== 'websocket' || !protocol) {
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nwant a WebSocket upgrade with one of the subprotocols ${supported.join(', ')}\n`);
    return undefined;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
  let buf: Buffer = Buffer.alloc(0);
  let fragments: Buffer[] = [];
  const onMsg: Array<(d: Buffer) => void> = [];
  const onClose: Array<() => void> = [];
  let closed = false;
  const close = (code = 1000): void => {
    if (closed) return;
    closed = true;
    const c = Buffer.alloc(2);
    c.writeUInt16BE(code);
    socket.end(frame(8, c));
    for (const f of onClose) f();
  };
  socket.on('data', (d: Buffer) => {
    const r = parseFrames(Buffer.concat([buf, d]));
    buf = r.rest;
    for (const f of r.frames) {
      if (f.opcode === 8) return close();
      if (f.opcode === 9) socket.write(frame(10, f.payload));
      if (f.opcode === 1 || f.opcode === 2 || f.opcode === 0) {
        fragments.push(f.payload);
        if (f.fin) {
          const msg = Buffer.concat(fragments);
          fragments = [];
          for (const g of onMsg) g(msg);
        }
      }
    }
  });
  socket.on('close', () => {
    if (closed) return;
    closed = true;
    for (const f of onClose) f();
  });
  socket.on('error', () => socket.destroy());
  return {
    protocol,
    send: (data) => void (!closed && socket.write(frame(2, data))),
    close,
    onMessage: (f) => void onMsg.push(f),
    onClose: (f) => void onClose.push(f),
  };
}
