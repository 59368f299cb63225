// The scripts the OVN central and tessera-ovs-ovn DaemonSets run, taken from their ConfigMaps and run for real in a
// test netns with certificates from deploy/pki.sh: three NB and three SB members form Raft clusters over ssl:, a write
// on one member is read on another, ovn-northd turns NB into SB; a node's ovsdb-server, ovs-vswitchd (netdev) and
// ovn-controller come up and register the chassis in the SB over ssl:.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { loadManifestFile } from '../../../kube-double/manifests.js';
import { ovnControllerSocket } from '../../../agent/patch-flow-watchdog.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const NS = 'tdep-ovn';
const MEMBERS = ['10.99.0.1', '10.99.0.2', '10.99.0.3'];
const NODE_IP = '10.99.0.10';
const exec = promisify(execFile);
const sh = async (cmd: string, args: string[]): Promise<string> => (await exec(cmd, args, { timeout: 20_000 })).stdout.trim();
const inNs = (cmd: string, args: string[]): Promise<string> => sh('ip', ['netns', 'exec', NS, cmd, ...args]);

function script(file: string, key: string): string {
  const cm = loadManifestFile(join(ROOT, 'deploy', file)).find((o) => o.kind === 'ConfigMap') as V1ConfigMap | undefined;
  return cm?.data?.[key] ?? assert.fail(`${file} has no ${key}`);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message.split('\n')[0];
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${last})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('deploy: ovn-central.sh and ovs.sh, run for real', function () {
  this.timeout(120_000);
  let dir: string;
  const procs: ChildProcess[] = [];
  const certs = (role: string) => join(dir, `certs-${role}`);
  const ssl = (role: string) => [`--private-key=${certs(role)}/privkey.pem`, `--certificate=${certs(role)}/cert.pem`, `--ca-cert=${certs(role)}/cacert.pem`];

  function start(name: string, file: string, args: string[], env: Record<string, string>): void {
    const log = openSync(join(dir, `${name}.log`), 'a');
    const p = spawn('ip', ['netns', 'exec', NS, 'sh', file, ...args], { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
    closeSync(log);
    procs.push(p);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-ovn-scripts-'));
    await exec('ip', ['netns', 'del', NS]).catch(() => undefined);
    await sh('ip', ['netns', 'add', NS]);
    await inNs('ip', ['link', 'set', 'lo', 'up']);
    // The members' and the node's addresses, on this netns's own loopback.
    for (const ip of [...MEMBERS, NODE_IP]) await inNs('ip', ['addr', 'add', `${ip}/32`, 'dev', 'lo']);
    await sh('sh', [join(ROOT, 'deploy', 'pki.sh'), join(dir, 'pki')]);
    for (const role of ['central', 'node']) {
      mkdirSync(certs(role));
      copyFileSync(join(dir, 'pki', `${role}-privkey.pem`), join(certs(role), 'privkey.pem'));
      copyFileSync(join(dir, 'pki', `${role}-cert.pem`), join(certs(role), 'cert.pem'));
      copyFileSync(join(dir, 'pki', 'ca', 'switchca', 'cacert.pem'), join(certs(role), 'cacert.pem'));
    }
    writeFileSync(join(dir, 'ovn-central.sh'), script('ovn-central/scripts.yaml', 'ovn-central.sh'));
    writeFileSync(join(dir, 'ovs.sh'), script('ovs-ovn/scripts.yaml', 'ovs.sh'));
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    // The daemons' own words, before after() removes them.
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.log'))) {
      process.stderr.write(`--- ${f}\n${readFileSync(join(dir, f), 'utf8').split('\n').slice(-15).join('\n')}\n`);
    }
  });

  after(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await exec('ip', ['netns', 'del', NS]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('three NB and three SB members form Raft clusters over ssl:, replicate, and northd fills the SB', async () => {
    MEMBERS.forEach((ip, i) => {
      const env = { NODE_IP: ip, OVN_CENTRAL_IPS: MEMBERS.join(','), OVN_DB_DIR: join(dir, `m${i}`, 'db'), OVN_RUNDIR: join(dir, `m${i}`, 'run'), OVSDB_CERTS: certs('central') };
      for (const role of ['nb', 'sb', 'northd']) start(`m${i}-${role}`, join(dir, 'ovn-central.sh'), [role], env);
    });
    const status = await until('a 3-member NB cluster with a leader', async () => {
      const s = await inNs('ovs-appctl', ['-t', join(dir, 'm0', 'run', 'ovnnb_db.ctl'), 'cluster/status', 'OVN_Northbound']);
      return (s.match(/ssl:10\.99\.0\.\d:6643/g) ?? []).length >= 3 && /Leader: (self|[0-9a-f]{4})/.test(s) ? s : undefined;
    });
    assert.match(status, /Cluster ID/);
    // Writes go to the leader (the clients get every member, as the manifests give them); reads from one member.
    const allNb = MEMBERS.map((ip) => `ssl:${ip}:6641`).join(',');
    await until('NB writable over ssl:', async () => (await inNs('ovn-nbctl', [`--db=${allNb}`, ...ssl('node'), '--may-exist', 'ls-add', 'sw-raft']), true));
    assert.match(await until('sw-raft on the third member', async () => {
      const l = await inNs('ovn-nbctl', ['--no-leader-only', `--db=ssl:${MEMBERS[2]}:6641`, ...ssl('node'), 'ls-list']);
      return l.includes('sw-raft') ? l : undefined;
    }), /sw-raft/);
    const sb = await until('northd to put sw-raft into the SB', async () => {
      const out = await inNs('ovn-sbctl', ['--no-leader-only', `--db=ssl:${MEMBERS[0]}:6642`, ...ssl('node'), '--columns=external_ids', 'list', 'Datapath_Binding']);
      return out.includes('sw-raft') ? out : undefined;
    });
    assert.match(sb, /name=sw-raft/);
    // A client without a certificate of the CA gets nothing.
    await assert.rejects(inNs('ovn-nbctl', [`--db=tcp:${MEMBERS[0]}:6641`, '--timeout=3', 'ls-list']));
  });

  it("a node's OVS and ovn-controller (netdev) come up and register the chassis in the SB over ssl:", async () => {
    const env = {
      NODE_NAME: 'node-a', NODE_IP, OVS_DATAPATH: 'netdev', OVN_CENTRAL_IPS: MEMBERS.join(','), OVSDB_CERTS: certs('node'),
      OVS_RUNDIR: join(dir, 'ovs', 'run'), OVS_DBDIR: join(dir, 'ovs', 'etc'), OVN_RUNDIR: join(dir, 'ovs', 'ovn'), OVS_LOGDIR: join(dir, 'ovs'),
    };
    for (const role of ['ovsdb', 'vswitchd', 'controller']) start(`ovs-${role}`, join(dir, 'ovs.sh'), [role], env);
    const chassis = await until('chassis node-a in the SB', async () => {
      const out = await inNs('ovn-sbctl', ['--no-leader-only', `--db=ssl:${MEMBERS[2]}:6642`, ...ssl('node'), '--columns=name,encaps', 'list', 'Chassis']);
      return out.includes('node-a') ? out : undefined;
    }, 60_000);
    assert.match(chassis, /name\s+: node-a/);
    const vsctl = (args: string[]) => inNs('ovs-vsctl', [`--db=unix:${join(dir, 'ovs', 'run', 'db.sock')}`, ...args]);
    assert.equal(await until('br-int', async () => (await vsctl(['br-exists', 'br-int']), vsctl(['get', 'Bridge', 'br-int', 'datapath_type']))), 'netdev');
    assert.equal(await vsctl(['get', 'Open_vSwitch', '.', 'external_ids:ovn-encap-ip']), `"${NODE_IP}"`);
    // Where the agent (--ovn-rundir=/var/run/ovn in deploy/agent) finds ovn-controller's pidfile and control socket.
    const ctl = ovnControllerSocket(join(dir, 'ovs', 'ovn'));
    assert.equal(await until('ovn-controller connected', async () => {
      const s = await inNs('ovs-appctl', ['-t', ctl, 'connection-status']);
      return s === 'connected' ? s : undefined;
    }), 'connected');
  });
});
