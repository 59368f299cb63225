// The shared --ovsdb-private-key/--ovsdb-certificate/--ovsdb-ca-cert flags, through each daemon's own parser.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseCommand } from '../../../lib/cli.js';
import { ovnTlsArgs } from '../../../lib/ovsdb-tls-flags.js';
import { parseConfig as parseAgent } from '../../../agent/config.js';
import { WATCHER_SPEC, loadConfig } from '../../../watcher/config.js';
import { parseGateway, specs } from '../../../gateway/config.js';

const oneLine = (re: RegExp) => (e: Error): boolean => e instanceof ConfigError && re.test(e.message) && !e.message.includes('\n');

describe('ovsdb ssl flags', () => {
  let dir: string;
  let tlsArgs: string[];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-tls-flags-'));
    for (const f of ['k.pem', 'c.pem', 'ca.pem']) writeFileSync(join(dir, f), 'x', { mode: 0o600 });
    tlsArgs = ['--ovsdb-private-key', join(dir, 'k.pem'), '--ovsdb-certificate', join(dir, 'c.pem'), '--ovsdb-ca-cert', join(dir, 'ca.pem')];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const watcher = (...a: string[]) => loadConfig(parseCommand(WATCHER_SPEC, ['--kube-api', 'http://127.0.0.1:6443', ...a]));
  const agent = (...a: string[]) => parseAgent(['--node-name', 'n1', '--kube-api', 'http://10.0.0.1:6443', ...a]);
  const gateway = (...a: string[]) => parseGateway(parseCommand(specs.run!, ['--node-name', 'n1', '--physical-ip', '192.168.1.10/24', '--default-gw', '192.168.1.1', '--bridge-interface', 'breth0', ...a]).values);

  it('an ssl: remote without the three files is a one-line config error naming the remote', () => {
    assert.throws(() => watcher('--nb', 'ssl:10.0.0.1:6641'), oneLine(/^--nb: ssl:10\.0\.0\.1:6641 needs --ovsdb-private-key, --ovsdb-certificate and --ovsdb-ca-cert$/));
    assert.throws(() => watcher('--nb', 'unix:/x', '--sb', 'tcp:10.0.0.1:6642,ssl:10.0.0.2:6642'), oneLine(/^--sb: ssl:10\.0\.0\.2:6642 needs/));
    assert.throws(() => agent('--ovs-db', 'ssl:10.0.0.1:6640'), oneLine(/^--ovs-db: ssl:10\.0\.0\.1:6640 needs/));
    assert.throws(() => gateway('--nb', 'ssl:10.0.0.1:6641'), oneLine(/^--nb: ssl:10\.0\.0\.1:6641 needs/));
  });

  it('the three files go together and must be readable', () => {
    assert.throws(() => watcher('--nb', 'ssl:10.0.0.1:6641', ...tlsArgs.slice(0, 4)), oneLine(/go together: --ovsdb-ca-cert missing$/));
    assert.throws(() => agent('--ovs-db', 'unix:/run/db.sock', ...tlsArgs.slice(2)), oneLine(/go together: --ovsdb-private-key missing$/));
    assert.throws(() => gateway('--nb', 'ssl:10.0.0.1:6641', ...tlsArgs.slice(0, 4), '--ovsdb-ca-cert', join(dir, 'nope.pem')),
      oneLine(/^--ovsdb-ca-cert .*nope\.pem: cannot read \(ENOENT\)$/));
  });

  it('hands the files to every daemon, and to ovn-ic as OVN names them', () => {
    const want = { key: join(dir, 'k.pem'), cert: join(dir, 'c.pem'), ca: join(dir, 'ca.pem') };
    assert.deepEqual(watcher('--nb', 'ssl:10.0.0.1:6641', '--sb', 'ssl:10.0.0.1:6642', ...tlsArgs).tls, want);
    // The agent's own ssl: remote may be only its SB (the node's ovn-remote), so the files are taken with a unix: --ovs-db.
    assert.deepEqual(agent('--ovs-db', 'unix:/run/db.sock', ...tlsArgs).tls, want);
    assert.deepEqual(gateway('--nb', 'ssl:10.0.0.1:6641', ...tlsArgs).tls, want);
    assert.equal(watcher('--nb', 'tcp:10.0.0.1:6641').tls, undefined);
    assert.deepEqual(ovnTlsArgs(want), [`--private-key=${want.key}`, `--certificate=${want.cert}`, `--ca-cert=${want.ca}`]);
  });
});
