// OVSDB framing: JSON-RPC 1.0 messages are bare JSON objects written back to back,
// with no length prefix or delimiter. We find message ends by counting braces
// outside strings. Scanning works on bytes: '{', '}', '"' and '\' never occur inside
// a multi-byte UTF-8 sequence, so a character split across chunks is only decoded
// once its message is complete. Each byte is scanned once (no re-scan, no O(n²) concat).

export class FramingError extends Error {
  override name = 'FramingError';
}

const LBRACE = 0x7b;
const RBRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

export class JsonFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private depth = 0;
  private inString = false;
  private escape = false;

  constructor(private readonly maxMessageBytes = 256 * 1024 * 1024) {}

  /** Feed a chunk; returns the messages completed by it, in order. Throws FramingError on garbage. */
  push(chunk: Buffer): unknown[] {
    const out: unknown[] = [];
    let start = this.depth > 0 ? 0 : -1; // start of the current message inside this chunk
    let depth = this.depth;
    let inString = this.inString;
    let escape = this.escape;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const b = chunk[i]!;
      if (inString) {
        if (escape) escape = false;
        else if (b === BACKSLASH) escape = true;
        else if (b === QUOTE) inString = false;
        continue;
      }
      if (depth === 0) {
        if (isSpace(b)) continue;
        if (b !== LBRACE) {
          this.reset();
          throw new FramingError(`unexpected ${JSON.stringify(String.fromCharCode(b))} (byte 0x${b.toString(16)}) between messages: peer is not speaking OVSDB JSON-RPC`);
        }
        start = i;
        depth = 1;
        continue;
      }
      if (b === QUOTE) inString = true;
      else if (b === LBRACE) depth++;
      else if (b === RBRACE) {
        depth--;
        if (depth === 0) {
          out.push(this.parse(chunk, start, i + 1));
          start = -1;
        }
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escape = escape;
    if (depth > 0) {
      const piece = start === 0 ? chunk : chunk.subarray(start);
      this.pending.push(piece);
      this.pendingBytes += piece.length;
      if (this.pendingBytes > this.maxMessageBytes) {
        this.reset();
        throw new FramingError(`message exceeds ${this.maxMessageBytes} bytes without ending`);
      }
    }
    return out;
  }

  /** Bytes held for an incomplete message. */
  get buffered(): number {
    return this.pendingBytes;
  }

  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.depth = 0;
    this.inString = false;
    this.escape = false;
  }

  private parse(chunk: Buffer, start: number, end: number): unknown {
    let text: string;
    if (this.pending.length === 0) {
      text = chunk.toString('utf8', start, end);
    } else {
      this.pending.push(chunk.subarray(0, end));
      text = Buffer.concat(this.pending, this.pendingBytes + end).toString('utf8');
      this.pending = [];
      this.pendingBytes = 0;
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      this.reset();
      throw new FramingError(`invalid JSON message: ${(e as Error).message}: ${text.slice(0, 200)}`);
    }
  }
}
