// Shared pieces of the watcher benches: the API test double as its own process, a raw watch stream,
// /proc figures (peak RSS, CPU), percentiles, and tessera-watcher as a child process that can be restarted.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { build as esbuild } from 'esbuild';
import type { KubeObject } from '../../kube-double/unix-client.js';
import { freePort } from '../../testkit/ovsdb-server.js';
import { writeTokenFile } from '../../testkit/token-file.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const TOKEN = 'bench';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until<T>(probe: () => T | undefined | false, timeoutMs: number, what: string, everyMs = 5): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1))];
};
export const f1 = (n: number): string => n.toFixed(1);

/** Peak resident set size of a process so far (VmHWM, bytes), from /proc: exact, and costs the process nothing. */
export function peakRssBytes(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); 0 if unreadable. */
export function cpuMs(pid: number): number {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

export interface ApiProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * The API test double as its own process (as kube-apiserver is). It runs bundled by esbuild, as the daemons
 * do, rather than through tsx's loader, whose per-function helpers cost the double CPU that the watcher
 * competes for. BENCH_API_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles it;
 * BENCH_API_LOG=FILE keeps its request log (method, path, status, time in the server).
 */
export async function startApiProcess(dir: string, history = 200000): Promise<ApiProcess> {
  const entry = join(dir, 'apiserver.mjs');
  // The bundle lives in `dir`: import.meta.dirname keeps naming kube-double/, whose ../deploy/crds the double reads.
  await esbuild({ entryPoints: [join(ROOT, 'kube-double/main.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: entry, logLevel: 'warning',
    define: { 'import.meta.dirname': JSON.stringify(join(ROOT, 'kube-double')) } });
  const nodeArgs = (process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const logArgs = process.env.BENCH_API_LOG ? ['--log-file', process.env.BENCH_API_LOG] : [];
  const child = spawn(process.execPath, [...nodeArgs, entry, '--listen', '127.0.0.1:0', '--token-file', writeTokenFile(join(dir, 'token'), TOKEN), '--history', String(history), ...logArgs], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
  });
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    const t = setTimeout(() => rej(new Error('API test server did not start within 60 s')), 60000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ready (\S+)/m.exec(out);
      if (m) {
        clearTimeout(t);
        res(m[1]);
      }
    });
    child.on('exit', (c) => rej(new Error(`API test server exited (${c})`)));
  });
  return { url, pid: child.pid!, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Streams watch events of a collection from `rv` (raw HTTP: one JSON event per line); lines without `mustContain` are skipped unparsed. */
export function watchStream(url: string, path: string, rv: string, onEvent: (type: string, obj: KubeObject) => void, mustContain = ''): () => void {
  const u = new URL(`${url}${path}?watch=1&resourceVersion=${rv}`);
  const req = http.get({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { Authorization: `Bearer ${TOKEN}` } }, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim() && line.includes(mustContain)) {
          const ev = JSON.parse(line) as { type: string; object: KubeObject };
          onEvent(ev.type, ev.object);
        }
      }
    });
    res.on('error', () => {});
  });
  req.on('error', () => {});
  return () => req.destroy();
}

export interface WatcherStats {
  transactions: number;
  operations: number;
  reconciles: number;
  queues: Record<string, { length: number; processed: number }>;
  podLatencyMs: Record<'nbCommitted' | 'annotated', { count: number; p50: number; p99: number }>;
}

export interface WatcherProcess {
  pid: number;
  logFile: string;
  stats(): Promise<WatcherStats>;
  ready(): Promise<boolean>;
  stop(): Promise<void>;
}

/** The API token as a 0600 file: the watcher takes tokens only from files. */
function tokenArgs(dir: string): string[] {
  return ['--kube-token-file', writeTokenFile(join(dir, 'token'), TOKEN)];
}

/**
 * How tessera-watcher runs, and what a bench prints for it: the built executable (what `make bench`
 * measures, after `make build`); BENCH_WATCHER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p") runs the
 * built bundle under plain node so a profile shows the code the executable runs; without a build, or with
 * BENCH_FROM_SOURCE=1, the source through tsx.
 */
export function watcherCommand(): { cmd: string[]; shown: string } {
  const bin = join(ROOT, 'dist/bin/tessera-watcher');
  const bundle = join(ROOT, 'dist/bundle/tessera-watcher.cjs');
  const nodeArgs = (process.env.BENCH_WATCHER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const fromSource = process.env.BENCH_FROM_SOURCE === '1';
  if (existsSync(bin) && nodeArgs.length === 0 && !fromSource) return { cmd: [bin], shown: bin };
  const script = !fromSource && existsSync(bundle) ? [bundle] : ['--import', 'tsx', join(ROOT, 'watcher/main.ts')];
  return { cmd: [process.execPath, ...nodeArgs, ...script], shown: script.join(' ') };
}

/** tessera-watcher (as watcherCommand says) as a child process, its log in `dir`/`logName`. */
export async function startWatcherProcess(o: { dir: string; apiUrl: string; nb: string; logName: string; extraArgs?: string[] }): Promise<WatcherProcess> {
  const { cmd } = watcherCommand();
  const healthPort = await freePort();
  const logFile = join(o.dir, o.logName);
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd[0], [...cmd.slice(1), '--kube-api', o.apiUrl, ...tokenArgs(o.dir), '--nb', o.nb, '--no-leader-election', '--health-listen', `127.0.0.1:${healthPort}`, ...(o.extraArgs ?? [])], {
    cwd: ROOT, stdio: ['ignore', fd, fd], env: { ...process.env, NODE_EXTRA_CA_CERTS: '', TESSERA_LOG_LEVEL: process.env.TESSERA_LOG_LEVEL ?? 'warn' },
  });
  closeSync(fd);
  const base = `http://127.0.0.1:${healthPort}`;
  return {
    pid: child.pid!,
    logFile,
    stats: async () => (await (await fetch(`${base}/stats`)).json()) as WatcherStats,
    ready: async () => {
      try {
        return (await fetch(`${base}/readyz`)).status === 200;
      } catch {
        return false;
      }
    },
    stop: () => stopChild(child),
  };
}

/** Waits for `probe` (async) to be truthy, polling every `everyMs`. */
export async function untilAsync(probe: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Lines of the watcher's log at warn or above (a failed sync is retried with backoff, which a latency tail would hide). */
export function warnings(logFile: string, pattern = /\b(warn|error)\b/i): string[] {
  return readFileSync(logFile, 'utf8').split('\n').filter((l) => pattern.test(l));
}
