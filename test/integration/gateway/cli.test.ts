// tessera-gateway's command line, run as a process: help per subcommand, one-line errors with exit 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './fixture.js';

function gw(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(join(REPO, 'node_modules/.bin/tsx'), [join(REPO, 'gateway/main.ts'), ...args], {
    encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('tessera-gateway CLI', function () {
  this.timeout(60_000);

  it('lists its subcommands and prints each one\'s flags', () => {
    const top = gw(['--help']);
    assert.equal(top.code, 0);
    for (const s of ['nics-to-bridge', 'init', 'run', 'cleanup']) assert.match(top.out, new RegExp(`^  ${s}\\s`, 'm'));
    const init = gw(['init', '--help']);
    assert.equal(init.code, 0);
    for (const f of ['--physical-interface', '--bridge-interface', '--physical-ip', '--default-gw', '--node-name', '--cluster-ip-subnet']) assert.ok(init.out.includes(f), f);
    assert.ok(gw(['run', '--help']).out.includes('--kube-api'));
    assert.ok(gw(['nics-to-bridge', '--help']).out.includes('--undo'));
  });

  it('bad input: one line naming what is wrong, exit 2', () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /missing subcommand/],
      [['frobnicate'], /unknown subcommand "frobnicate"/],
      [['init', '--node-name', 'n1', '--bridge-interface', 'breth0', '--physical-ip', '10.0.0.5/24', '--default-gw', '10.0.0.1'], /--nb is required/],
      [['init', '--bogus'], /bogus/],
      [['nics-to-bridge'], /exactly one NIC name/],
      [['nics-to-bridge', 'eth0', '--ovs-db', 'db.sock'], /--ovs-db "db.sock": expected unix:PATH/],
      [['run', '--node-name', 'n1', '--bridge-interface', 'breth0', '--physical-ip', '10.0.0.5/24', '--default-gw', '10.0.0.1', '--nb', 'unix:/x', '--kube-api', 'ftp://x'], /--kube-api "ftp:\/\/x": scheme must be http or https/],
    ];
    for (const [args, re] of cases) {
      const r = gw(args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.err}`);
      assert.match(r.err, re);
      assert.equal(r.err.trim().split('\n').length, 1, `one line: ${r.err}`);
    }
  });
});
