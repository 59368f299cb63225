// Integration fixture for the watcher: a real NB ovsdb-server (temp dir), the Kubernetes API test
// double in-process, and tessera-watcher as a child process (so tests can kill -9 it). Objects are
// created straight in the test double's store; NB is read back through our own OVSDB client.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { OvsdbClient } from '../../../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../../../lib/ovsdb/models/nb.js';
import { ovsEnv, spawnOut, startOvsdbServer, type OvsdbServer } from '../../../testkit/ovsdb-server.js';
import { startApiServer, type ApiServer } from '../../../kube-double/server.js';
import { findResource, type KubeObject } from '../../../kube-double/resources.js';
import { WATCHED_TABLES } from '../../../watcher/master-init.js';
import { writeTokenFile } from '../../../testkit/token-file.js';
import { serviceAccountUser } from '../../../kube-double/rbac.js';
import { deployRbacFiles, loadManifestFile } from '../../../kube-double/manifests.js';

const ROOT = resolve(import.meta.dirname, '../../..');
/** The watcher's service account token: the double authorizes it by deploy/watcher/rbac.yaml. */
export const TOKEN = 'watcher-test-token';
export const WATCHER_USER = serviceAccountUser('kube-system', 'tessera-watcher');
const ADMIN_TOKEN = 'watcher-test-admin-token';

export const rt = {
  node: findResource('', 'v1', 'nodes')!,
  pod: findResource('', 'v1', 'pods')!,
  ns: findResource('', 'v1', 'namespaces')!,
  svc: findResource('', 'v1', 'services')!,
  slice: findResource('discovery.k8s.io', 'v1', 'endpointslices')!,
  np: findResource('networking.k8s.io', 'v1', 'networkpolicies')!,
  event: findResource('', 'v1', 'events')!,
};

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

export class WatcherProc {
  child?: ChildProcess;
  constructor(readonly logFile: string) {}
  get pid(): number | undefined {
    return this.child?.pid;
  }
  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }
  alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }
  async kill(sig: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child;
    if (!c || !this.alive()) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(sig);
    await Promise.race([gone, sleep(10000)]);
  }
}

export class WatcherFixture {
  nbServer!: OvsdbServer;
  api!: ApiServer;
  nb!: OvsdbClient<NBTables>;
  dir = mkdtempSync(join(tmpdir(), 'tessera-watcher-it-'));
  procs: WatcherProc[] = [];
  /** What the watcher reads its token from; tests rotate it with writeTokenFile. */
  tokenFile = join(this.dir, 'token');

  async start(): Promise<void> {
    this.nbServer = await startOvsdbServer();
    this.api = await startApiServer({
      listen: [{ host: '127.0.0.1', port: 0 }], token: ADMIN_TOKEN, namespaces: ['default', 'kube-system'],
      identities: [{ token: TOKEN, user: WATCHER_USER }], objects: deployRbacFiles(ROOT).flatMap(loadManifestFile),
    });
    writeTokenFile(this.tokenFile, TOKEN);
    this.nb = await OvsdbClient.connect(NB_MODEL, { remotes: [this.nbServer.unix], initialTimeoutMs: 5000 });
    await this.nb.monitor([...WATCHED_TABLES]);
  }

  args(extra: string[] = []): string[] {
    return ['--kube-api', this.api.url, '--kube-token-file', this.tokenFile, '--nb', this.nbServer.unix, '--workers', '8', ...extra];
  }

  /** Starts tessera-watcher (tsx, from source) as a child process. */
  startWatcher(extra: string[] = ['--no-leader-election'], env: NodeJS.ProcessEnv = {}): WatcherProc {
    const p = new WatcherProc(join(this.dir, `watcher-${this.procs.length}.log`));
    const fd = openSync(p.logFile, 'a');
    p.child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'watcher/main.ts'), ...this.args(extra)], {
      cwd: ROOT,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, NODE_EXTRA_CA_CERTS: '', TESSERA_LOG_LEVEL: 'info', ...env },
    });
    closeSync(fd);
    this.procs.push(p);
    return p;
  }

  /** Runs `tessera-watcher master-init` to completion; returns exit code and output. */
  async masterInit(extra: string[] = []): Promise<{ code: number | null; out: string }> {
    return new Promise((res) => {
      const c = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'watcher/main.ts'), 'master-init', '--nb', this.nbServer.unix, ...extra], { cwd: ROOT, env: { ...process.env, NODE_EXTRA_CA_CERTS: '' } });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const t = setTimeout(() => c.kill('SIGKILL'), 30000);
      c.on('exit', (code) => {
        clearTimeout(t);
        res({ code, out });
      });
    });
  }

  async stop(): Promise<void> {
    for (const p of this.procs) await p.kill('SIGKILL');
    this.nb?.close();
    await this.api?.close();
    await this.nbServer?.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- Kubernetes objects ----

  get store() {
    return this.api.store;
  }

  create(kind: keyof typeof rt, obj: Record<string, unknown> & { metadata: KubeObject['metadata'] }): KubeObject {
    return this.store.create(rt[kind], obj.metadata.namespace, obj);
  }

  get(kind: keyof typeof rt, namespace: string | undefined, name: string): KubeObject | undefined {
    try {
      return this.store.get(rt[kind], namespace, name);
    } catch {
      return undefined;
    }
  }

  remove(kind: keyof typeof rt, namespace: string | undefined, name: string): void {
    this.store.delete(rt[kind], namespace, name, {});
  }

  patch(kind: keyof typeof rt, namespace: string | undefined, name: string, patch: unknown): KubeObject {
    return this.store.patch(rt[kind], namespace, name, 'merge', patch);
  }

  list(kind: keyof typeof rt, namespace?: string): KubeObject[] {
    return this.store.list(rt[kind], { namespace, labels: [], fields: [] }).items;
  }

  /** The Events about object `name` in `namespace` (every namespace when undefined) with `reason`. */
  events(namespace: string | undefined, name: string, reason: string): KubeObject[] {
    return this.list('event', namespace).filter((e) => (e.involvedObject as { name: string }).name === name && e.reason === reason);
  }

  setPodPhase(namespace: string, name: string, phase: string): void {
    const pod = this.store.get(rt.pod, namespace, name);
    this.store.update(rt.pod, namespace, name, { ...pod, status: { ...(pod.status as object), phase } }, 'status');
  }

  node(name: string, labels: Record<string, string> = {}): KubeObject {
    return this.create('node', { metadata: { name, labels } });
  }

  pod(namespace: string, name: string, node: string | undefined, opts: { labels?: Record<string, string>; annotations?: Record<string, string>; hostNetwork?: boolean; ports?: Array<{ name?: string; containerPort: number; protocol?: string }> } = {}): KubeObject {
    return this.create('pod', {
      metadata: { namespace, name, labels: opts.labels ?? {}, annotations: opts.annotations ?? {} },
      spec: { ...(node ? { nodeName: node } : {}), hostNetwork: opts.hostNetwork ?? false, containers: [{ name: 'c', image: 'x', ports: opts.ports ?? [] }] },
    });
  }

  namespace(name: string, labels: Record<string, string> = {}): KubeObject {
    return this.create('ns', { metadata: { name, labels } });
  }

  podNetwork(namespace: string, name: string): { ip_addresses: string[]; mac_address: string; gateway_ips: string[]; logical_switch: string; routes: unknown[] } | undefined {
    const raw = this.get('pod', namespace, name)?.metadata.annotations?.['tessera.io/pod-networks'];
    return raw ? (JSON.parse(raw) as { default: never }).default : undefined;
  }

  // ---- NB ----

  /** ovn-nbctl on the fixture's NB: another writer beside the watcher, or a reader of its rows. */
  nbctl(...args: string[]): Promise<string> {
    return spawnOut('ovn-nbctl', [`--db=${this.nbServer.unix}`, ...args], ovsEnv(this.nbServer.dir));
  }

  lsp(name: string) {
    return this.nb.cache.lookup('Logical_Switch_Port', 'name', name);
  }
  ls(name: string) {
    return this.nb.cache.lookup('Logical_Switch', 'name', name);
  }
}

/**
 * A fixture for the enclosing mocha suite: started (with a Node object per name in `nodes`) before its tests, stopped
 * after them. Call it inside `describe`.
 */
export function useWatcherFixture(nodes: string[] = ['n1']): WatcherFixture {
  const f = new WatcherFixture();
  before(async () => {
    await f.start();
    for (const n of nodes) f.node(n);
  });
  after(async () => {
    await f.stop();
  });
  return f;
}
