// The managed ovn-ic against real databases (unix sockets only, no network): it registers the AZ, is restarted
// after a crash, restarted on new targets, and gone after stop().
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { daemonEnv, daemonFlags, readPid, alive, stopDaemons } from '../../../lab/daemon.js';
import { run } from '../../../lab/exec.js';
import { waitFor } from '../../../lab/wait.js';
import { OvnIcDaemon } from '../../../lib/ovnic/daemon.js';
import { createLogger } from '../../../lib/log.js';

const DBS = [
  { name: 'nb', schema: '/usr/share/ovn/ovn-nb.ovsschema' },
  { name: 'sb', schema: '/usr/share/ovn/ovn-sb.ovsschema' },
  { name: 'icnb', schema: '/usr/share/ovn/ovn-ic-nb.ovsschema' },
  { name: 'icsb', schema: '/usr/share/ovn/ovn-ic-sb.ovsschema' },
];

describe('managed ovn-ic daemon (real ovsdb-servers)', function () {
  this.timeout(60_000);
  let dir: string;
  let daemon: OvnIcDaemon | undefined;
  const sock = (db: string): string => `unix:${join(dir, `${db}.sock`)}`;
  const azs = async (): Promise<string> => run('ovn-ic-sbctl', [`--db=${sock('icsb')}`, '--timeout=10', '--bare', '--columns=name', 'list', 'Availability_Zone']);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-ovnic-'));
    for (const db of DBS) {
      await run('ovsdb-tool', ['create', join(dir, `${db.name}.db`), db.schema]);
      await run('ovsdb-server', [join(dir, `${db.name}.db`), `--remote=punix:${join(dir, `${db.name}.sock`)}`, ...daemonFlags(dir, db.name)], { env: daemonEnv(dir) });
    }
    await run('ovn-nbctl', [`--db=${sock('nb')}`, 'init']);
    await run('ovn-nbctl', [`--db=${sock('nb')}`, 'set', 'NB_Global', '.', 'name=azx']);
    await run('ovn-ic-nbctl', [`--db=${sock('icnb')}`, 'init']);
  });
  after(async () => {
    await daemon?.stop();
    await stopDaemons(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers the AZ, comes back after a crash, restarts on new targets, and stops for good', async () => {
    const logger = createLogger('test', { level: 'error' });
    daemon = new OvnIcDaemon({ dir: join(dir, 'ovn-ic'), logger, minBackoffMs: 100 });
    const targets = { nb: [sock('nb')], sb: [sock('sb')], icNb: [sock('icnb')], icSb: [sock('icsb')] };
    await daemon.ensure(targets);
    await waitFor('AZ azx in IC-SB', async () => (await azs()).includes('azx'), 15_000);
    const pidfile = join(dir, 'ovn-ic', 'ovn-ic.pid');
    await waitFor('ovn-ic pidfile', () => readPid(pidfile) === daemon!.pid, 5000);
    const first = daemon.pid!;

    await daemon.ensure(targets);
    assert.equal(daemon.pid, first, 'same targets: left alone');

    process.kill(first, 'SIGKILL');
    await waitFor('ovn-ic restarted after SIGKILL', () => daemon!.pid !== undefined && daemon!.pid !== first && alive(daemon!.pid), 10_000);
    assert.equal(daemon.starts, 2);
    // The restarted daemon is working: renaming the AZ shows up in IC-SB.
    await run('ovn-nbctl', [`--db=${sock('nb')}`, 'set', 'NB_Global', '.', 'name=azy']);
    await waitFor('AZ azy in IC-SB', async () => (await azs()).includes('azy'), 15_000);

    const second = daemon.pid!;
    await daemon.ensure({ ...targets, icSb: [sock('icsb'), sock('icsb')] });
    assert.notEqual(daemon.pid, second, 'new targets: restarted');
    assert.equal(alive(second), false);

    const last = daemon.pid!;
    await daemon.stop();
    assert.equal(daemon.running, false);
    await waitFor('ovn-ic gone', () => !alive(last), 5000);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(daemon.pid, undefined, 'not restarted after stop()');
  });
});
