// Lease leader election against the API test double: one leader among candidates, handover on
// stop (released lease) and on a killed leader (within the lease duration).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startApiServer, type ApiServer } from '../../../kube-double/server.js';
import { loadKubeConfig, makeClients } from '../../../lib/kube/client.js';
import { LeaderElector } from '../../../lib/kube/leader-election.js';
import { tempTokenFile } from '../../../testkit/token-file.js';
import { until as pollUntil } from '../apiserver/helpers.js';

const LEASE_MS = 1500;
const RENEW_MS = 1000;
const RETRY_MS = 200;

const until = (what: string, pred: () => boolean, timeoutMs = 8000): Promise<void> => pollUntil(what, pred, timeoutMs, 5);

describe('lib/kube LeaderElector', function () {
  this.timeout(30000);
  let srv: ApiServer;
  const electors: LeaderElector[] = [];
  const children: ChildProcess[] = [];

  before(async () => {
    srv = await startApiServer({ token: 't' });
  });
  after(async () => {
    for (const e of electors) await e.stop();
    for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
    await srv?.close();
  });

  function candidate(identity: string, name: string, log: string[], releaseOnStop = true): LeaderElector {
    const { coordination } = makeClients(loadKubeConfig({ server: srv.url, tokenFile: tempTokenFile('t') }));
    const e = new LeaderElector({
      api: coordination,
      namespace: 'kube-system',
      name,
      identity,
      leaseDurationMs: LEASE_MS,
      renewDeadlineMs: RENEW_MS,
      retryPeriodMs: RETRY_MS,
      releaseOnStop,
      onStartedLeading: () => void log.push(`${identity} started`),
      onStoppedLeading: () => void log.push(`${identity} stopped`),
    });
    electors.push(e);
    return e;
  }

  it('elects exactly one of two candidates and hands over at once when the leader stops', async () => {
    const log: string[] = [];
    const a = candidate('a', 'stop-test', log);
    const b = candidate('b', 'stop-test', log);
    a.start();
    b.start();
    await until('a leader', () => a.isLeader || b.isLeader);
    // Both keep campaigning for a while (several lease durations' worth of retries): never two leaders.
    const end = Date.now() + 2 * LEASE_MS;
    while (Date.now() < end) {
      assert.ok(!(a.isLeader && b.isLeader), 'two leaders at once');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(log.length, 1, `leadership stayed put: ${log.join(', ')}`);
    const [leader, follower] = a.isLeader ? [a, b] : [b, a];
    const lease = await makeClients(loadKubeConfig({ server: srv.url, tokenFile: tempTokenFile('t') })).coordination.readNamespacedLease({ namespace: 'kube-system', name: 'stop-test' });
    assert.equal(lease.spec?.holderIdentity, leader === a ? 'a' : 'b');
    const t0 = Date.now();
    await leader.stop();
    await until('handover', () => follower.isLeader);
    const took = Date.now() - t0;
    assert.ok(took < LEASE_MS, `a released lease is taken well within the lease duration (took ${took} ms)`);
    assert.equal(leader.isLeader, false);
    assert.deepEqual(log.slice(1), [`${leader === a ? 'a' : 'b'} stopped`, `${follower === a ? 'a' : 'b'} started`]);
  });

  it('hands over within the lease duration when the leading process is killed', async () => {
    const root = path.resolve(import.meta.dirname, '../../..');
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const child = spawn('node', ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/candidate.ts'), srv.url, tempTokenFile('t'), 'proc', String(LEASE_MS), String(RENEW_MS), String(RETRY_MS)], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await until('child leads', () => out.includes('leading'), 15000);
    const log: string[] = [];
    const local = candidate('local', 'tessera-test', log, false);
    local.start();
    await new Promise((r) => setTimeout(r, LEASE_MS + 500));
    assert.equal(local.isLeader, false, 'the live leader keeps the lease');
    assert.equal(local.leader, 'proc');
    const t0 = Date.now();
    child.kill('SIGKILL');
    await until('takeover', () => local.isLeader, 3 * LEASE_MS);
    const took = Date.now() - t0;
    // Expiry counts from the last renewal we saw, at most one retry period before the kill.
    assert.ok(took <= LEASE_MS + 2 * RETRY_MS + 100, `took ${took} ms`);
    assert.ok(took >= LEASE_MS - RETRY_MS - 100, `must not take a live lease early (took ${took} ms)`);
  });

  it('steps down when it cannot renew within the renew deadline', async () => {
    const log: string[] = [];
    const a = candidate('solo', 'deadline-test', log);
    a.start();
    await until('leads', () => a.isLeader);
    // Someone else grabs the lease behind its back (as after a partition): renewals now conflict.
    const { coordination } = makeClients(loadKubeConfig({ server: srv.url, tokenFile: tempTokenFile('t') }));
    const lease = await coordination.readNamespacedLease({ namespace: 'kube-system', name: 'deadline-test' });
    await coordination.replaceNamespacedLease({ namespace: 'kube-system', name: 'deadline-test', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', leaseDurationSeconds: 60 } } });
    const t0 = Date.now();
    await until('step down', () => !a.isLeader, RENEW_MS * 3);
    const took = Date.now() - t0;
    assert.ok(took <= RENEW_MS + 2 * RETRY_MS + 100, `took ${took} ms`);
    assert.deepEqual(log, ['solo started', 'solo stopped']);
  });
});
