// Shared pieces of the tessera-cni integration tests: running commands (argument arrays, bounded), netns
// made by the test (prefix tcn-), running the built tessera-cni directly or through the reference cnitool.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');
export const BUILT_SHIM = join(REPO, 'dist/bin/tessera-cni');
/**
 * The tests run a private copy of the built shim: dist/bin is rewritten in place by any concurrent
 * `tools/build.ts`, which would make an exec fail mid-run (ETXTBSY / truncated file).
 */
export const BIN_DIR = join(tmpdir(), `tcn-bin-${process.pid}`);
export const SHIM = join(BIN_DIR, 'tessera-cni');
export const CNITOOL = join(REPO, '.tools/bin/cnitool');
export const REF_PLUGINS = '/usr/lib/cni';

export function requireBuilt(): void {
  if (!existsSync(BUILT_SHIM)) throw new Error(`${BUILT_SHIM} missing: run node_modules/.bin/tsx tools/build.ts tessera-cni (make build)`);
  if (!existsSync(CNITOOL)) throw new Error(`${CNITOOL} missing: run bash tools/setup.sh`);
  if (existsSync(SHIM)) return;
  mkdirSync(BIN_DIR, { recursive: true });
  copyFileSync(BUILT_SHIM, SHIM);
  chmodSync(SHIM, 0o755);
  process.once('exit', () => rmSync(BIN_DIR, { recursive: true, force: true }));
}

/** Runs a command, resolves trimmed stdout, rejects with the command and its stderr. */
export function sh(cmd: string, args: string[], timeoutMs = 20_000): Promise<string> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { timeout: timeoutMs, env: { ...process.env, NODE_EXTRA_CA_CERTS: '' } }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${cmd} ${args.join(' ')}: ${err.message} ${stderr.trim()}`));
      else res(stdout.trim());
    });
  });
}

export async function succeeds(cmd: string, args: string[]): Promise<boolean> {
  try {
    await sh(cmd, args);
    return true;
  } catch {
    return false;
  }
}

export async function addNetns(name: string): Promise<string> {
  if (!name.startsWith('tcn-')) throw new Error(`netns ${name}: the cni tests only use the tcn- prefix`);
  await sh('ip', ['netns', 'add', name]);
  await sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return `/var/run/netns/${name}`;
}

export async function delNetns(name: string): Promise<void> {
  if (!name.startsWith('tcn-')) return;
  if ((await sh('ip', ['netns', 'list'])).split('\n').some((l) => l.split(' ')[0] === name)) await sh('ip', ['netns', 'del', name]);
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Spawns and collects output; never rejects on a non-zero exit. */
export function spawnCollect(cmd: string, args: string[], env: Record<string, string | undefined>, input: string | undefined, timeoutMs = 60_000): Promise<Run> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env: env as NodeJS.ProcessEnv, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', rej);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr, ms: performance.now() - t0 });
    });
    // A plugin may exit without reading stdin (VERSION, early errors): EPIPE on our write is not a failure.
    child.stdin?.on('error', () => undefined);
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Base environment for plugin runs: PATH only, no NODE_EXTRA_CA_CERTS (what a runtime passes). */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { PATH: process.env.PATH, ...extra };
}

/** Executes tessera-cni directly, as a runtime would (needed for 1.1 STATUS/GC: cnitool is libcni 1.1.2). */
export function execShim(env: Record<string, string | undefined>, stdin: string | undefined): Promise<Run> {
  return spawnCollect(SHIM, [], baseEnv(env), stdin);
}

/** A per-process temp dir path; created by the caller's before() hook (mkdirSync), so filtered-out suites leave nothing. */
export function tmpDir(prefix: string): string {
  return join(tmpdir(), `${prefix}${process.pid}`);
}

export interface Cnitool {
  dir: string;
  /** Writes <dir>/<name>.conflist. */
  conflist(name: string, cniVersion: string, plugins: object[]): void;
  run(cmd: 'add' | 'check' | 'del', net: string, netnsPath: string, opts?: { hostNetns?: string; capArgs?: object; cniArgs?: string; ifname?: string }): Promise<Run>;
}

/** The reference client: NETCONFPATH = a temp dir of conflists, CNI_PATH = our copy of the shim, then the reference plugins. */
export function cnitool(dir: string): Cnitool {
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    conflist(name, cniVersion, plugins) {
      writeFileSync(join(dir, `${name}.conflist`), JSON.stringify({ cniVersion, name, plugins }, null, 1));
    },
    run(cmd, net, netnsPath, opts = {}) {
      const env = baseEnv({
        NETCONFPATH: dir,
        CNI_PATH: `${BIN_DIR}:${REF_PLUGINS}`,
        CNI_ARGS: opts.cniArgs ?? 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=p',
        CNI_IFNAME: opts.ifname ?? 'eth0',
        CAP_ARGS: opts.capArgs ? JSON.stringify(opts.capArgs) : undefined,
      });
      const argv = [CNITOOL, cmd, net, netnsPath];
      return opts.hostNetns ? spawnCollect('ip', ['netns', 'exec', opts.hostNetns, ...argv], env, undefined) : spawnCollect(argv[0], argv.slice(1), env, undefined);
    },
  };
}
