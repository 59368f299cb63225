// The CLI as the lab runs it: a real process, its ready line, the unix socket for root-netns tools,
// clean exit on SIGTERM, and the same inside a network namespace.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { apiPath, KubeApiError, UnixKubeClient, type KubeObject } from '../../../kube-double/unix-client.js';
import { kubeConfig, podSpec } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const MAIN = path.join(ROOT, 'kube-double/main.ts');
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

interface Started {
  child: ChildProcess;
  ready: string[];
  stderr: () => string;
}

function start(cmd: string, args: string[]): Promise<Started> {
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ready line within 15 s; stderr: ${err}`)), 15000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('ready '));
      if (line) {
        clearTimeout(timer);
        resolve({ child, ready: line.split(' ').slice(1), stderr: () => err });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ready; stderr: ${err}`));
    });
  });
}

function exited(child: ChildProcess, timeoutMs = 5000): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('did not exit')), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

describe('API test double CLI', function () {
  this.timeout(40000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-apiserver-'));
  const children: ChildProcess[] = [];
  const netns = `tsr-apisrv-${process.pid}`;
  let netnsMade = false;

  after(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null && c.pid) {
        process.kill(c.pid, 'SIGKILL');
        await exited(c).catch(() => undefined);
      }
    }
    if (netnsMade) execFileSync('ip', ['netns', 'delete', netns]);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('prints ready with its URLs, serves TCP and the unix socket, and exits 0 on SIGTERM', async () => {
    const sock = path.join(tmp, 'api.sock');
    const log = path.join(tmp, 'api.log');
    const s = await start('node', ['--import', 'tsx', MAIN, '--listen', '127.0.0.1:0', '--unix', sock, '--token', 'tok', '--log-file', log, '--bookmark-interval-ms', '200', '--history', '50']);
    children.push(s.child);
    assert.match(s.ready[0], /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(s.ready[1], `unix:${sock}`);
    const core = kubeConfig(s.ready[0], 'tok').makeApiClient(k8s.CoreV1Api);
    await core.createNode({ body: { metadata: { name: 'n1' } } });

    const uc = new UnixKubeClient(sock, { token: 'tok' });
    const nodes = await uc.list(apiPath('v1', 'nodes'));
    assert.deepEqual(nodes.items.map((n) => n.metadata.name), ['n1']);
    await uc.create(apiPath('v1', 'pods', 'default'), { metadata: { name: 'p1' }, spec: podSpec });
    // watchUntil sees a change made later through the TCP listener.
    const waiting = uc.watchUntil<KubeObject & { status?: { podIP?: string } }>(apiPath('v1', 'pods', 'default'), (_t, p) => p.status?.podIP === '10.244.1.3', { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    await core.patchNamespacedPodStatus({ namespace: 'default', name: 'p1', body: { status: { podIP: '10.244.1.3' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const seen = await waiting;
    assert.equal(seen.metadata.name, 'p1');
    const patched = await uc.patch(apiPath('v1', 'pods', 'default', 'p1'), [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }], 'json');
    assert.deepEqual(patched.metadata.labels, { a: 'b' });
    await assert.rejects(uc.get(apiPath('v1', 'pods', 'default', 'nope')), (e: unknown) => e instanceof KubeApiError && e.code === 404 && e.status?.reason === 'NotFound');
    await assert.rejects(new UnixKubeClient(sock).list(apiPath('v1', 'nodes')), (e: unknown) => e instanceof KubeApiError && e.code === 401);
    await assert.rejects(uc.watchUntil(apiPath('v1', 'pods', 'default'), (_t, p) => p.metadata.name === 'never', { timeoutMs: 300 }), /not met within 300 ms/);

    s.child.kill('SIGTERM');
    assert.equal(await exited(s.child), 0);
    assert.equal(fs.existsSync(sock), false, 'socket removed on exit');
    assert.match(fs.readFileSync(log, 'utf8'), /POST \/api\/v1\/nodes 201/);
  });

  it('rejects bad flags with one line and exit 2', () => {
    for (const args of [['--listen', 'nohost'], ['--history', '0'], ['--bogus']]) {
      let code: number | undefined;
      let stderr = '';
      try {
        execFileSync('node', ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        code = (e as { status: number }).status;
        stderr = String((e as { stderr: Buffer }).stderr);
      }
      assert.equal(code, 2, args.join(' '));
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.match(stderr, /^tessera-test-apiserver: /);
    }
  });

  it('runs inside a netns, reachable from the root netns only through its unix socket', async function () {
    if (process.getuid?.() !== 0) this.skip();
    execFileSync('ip', ['netns', 'add', netns]);
    netnsMade = true;
    execFileSync('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);
    const sock = path.join(tmp, 'netns.sock');
    // `ip netns exec` execs node, so the child's pid is the server's.
    const s = await start('ip', ['netns', 'exec', netns, 'node', '--import', 'tsx', MAIN, '--listen', '127.0.0.1:0', '--unix', sock]);
    children.push(s.child);
    const port = new URL(s.ready[0]).port;
    const uc = new UnixKubeClient(sock);
    await uc.create(apiPath('v1', 'nodes'), { metadata: { name: 'in-netns' } });
    const inside = execFileSync('ip', ['netns', 'exec', netns, 'curl', '-s', `http://127.0.0.1:${port}/api/v1/nodes`], { encoding: 'utf8' });
    assert.match(inside, /"in-netns"/);
    // The TCP port lives in the netns: the same address from the root netns reaches nothing of ours.
    const fromRoot = await fetch(`http://127.0.0.1:${port}/api/v1/nodes`).then(
      (r) => r.text(),
      () => 'unreachable',
    );
    assert.doesNotMatch(fromRoot, /"in-netns"/);
    s.child.kill('SIGTERM');
    assert.equal(await exited(s.child), 0);
  });
});
