import assert from 'node:assert/strict';
import { parseRemote, parseRemotes } from '../../../lib/ovsdb/remote.js';

describe('ovsdb remotes', () => {
  it('parses unix, tcp, ssl and IPv6 remotes', () => {
    assert.deepEqual(parseRemote('unix:/run/ovn/ovnnb_db.sock'), { kind: 'unix', path: '/run/ovn/ovnnb_db.sock', text: 'unix:/run/ovn/ovnnb_db.sock' });
    assert.deepEqual(parseRemote('tcp:10.0.0.2:6641'), { kind: 'tcp', host: '10.0.0.2', port: 6641, text: 'tcp:10.0.0.2:6641' });
    assert.deepEqual(parseRemote('ssl:[fd00::2]:6641'), { kind: 'ssl', host: 'fd00::2', port: 6641, text: 'ssl:[fd00::2]:6641' });
    assert.deepEqual(
      parseRemotes('tcp:a:1, tcp:b:2').map((r) => r.text),
      ['tcp:a:1', 'tcp:b:2'],
    );
  });
  it('rejects malformed remotes, naming them', () => {
    assert.throws(() => parseRemote('ptcp:6641'), /remote "ptcp:6641": expected unix:PATH/);
    assert.throws(() => parseRemote('tcp:host'), /expected tcp:HOST:PORT/);
    assert.throws(() => parseRemote('tcp:host:70000'), /port 70000 out of range/);
    assert.throws(() => parseRemotes(' , '), /no OVSDB remotes given/);
  });
});
