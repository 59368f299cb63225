import assert from 'node:assert/strict';
import { JsonFramer, FramingError } from '../../../lib/ovsdb/framing.js';

function feedBytes(f: JsonFramer, buf: Buffer, step: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < buf.length; i += step) out.push(...f.push(buf.subarray(i, i + step)));
  return out;
}

describe('ovsdb framing', () => {
  it('splits back-to-back objects in one chunk', () => {
    const f = new JsonFramer();
    assert.deepEqual(f.push(Buffer.from('{"id":1,"result":[]}{"id":2,"result":null}\n {"method":"echo","params":[],"id":"echo"}')), [
      { id: 1, result: [] },
      { id: 2, result: null },
      { method: 'echo', params: [], id: 'echo' },
    ]);
    assert.equal(f.buffered, 0);
  });

  it('reassembles a message split at every possible byte', () => {
    const msgs = [{ id: 7, result: [{ rows: [{ name: 'a{b}c', ext: { k: 'v"}' } }] }] }, { id: 8, error: 'x', result: null }];
    const buf = Buffer.from(msgs.map((m) => JSON.stringify(m)).join(''));
    for (let step = 1; step <= buf.length; step++) assert.deepEqual(feedBytes(new JsonFramer(), buf, step), msgs, `chunk size ${step}`);
  });

  it('ignores braces inside strings, including after escaped quotes and backslashes', () => {
    const m = { s: 'quote \\" then } and {{ and \\\\', t: '\\', u: '"}"' };
    const text = JSON.stringify(m);
    assert.deepEqual(feedBytes(new JsonFramer(), Buffer.from(text + text), 3), [m, m]);
  });

  it('decodes multi-byte UTF-8 split across chunks', () => {
    const m = { name: 'pöd-名前-🚀', id: 1 };
    const buf = Buffer.from(JSON.stringify(m));
    for (let step = 1; step <= 4; step++) assert.deepEqual(feedBytes(new JsonFramer(), buf, step), [m]);
  });

  it('handles a large message in many chunks without re-scanning', () => {
    const big = { rows: Array.from({ length: 20000 }, (_, i) => ({ name: `port-${i}`, addresses: [`0a:58:0a:f4:${i % 256}`] })) };
    const buf = Buffer.from(JSON.stringify(big));
    const t0 = performance.now();
    const out = feedBytes(new JsonFramer(), buf, 1024);
    assert.deepEqual(out, [big]);
    assert.ok(performance.now() - t0 < 2000, 'framing a ~1 MB message took too long');
  });

  it('rejects garbage between messages with a clear error', () => {
    const f = new JsonFramer();
    assert.throws(() => f.push(Buffer.from('HTTP/1.1 400 Bad Request\r\n')), (e: Error) => e instanceof FramingError && /not speaking OVSDB/.test(e.message));
  });

  it('rejects an unparsable object', () => {
    assert.throws(() => new JsonFramer().push(Buffer.from('{"a":1,}')), /invalid JSON message/);
  });

  it('bounds an unterminated message', () => {
    const f = new JsonFramer(64);
    assert.throws(() => f.push(Buffer.from('{"a":"' + 'x'.repeat(100))), /exceeds 64 bytes/);
  });
});
