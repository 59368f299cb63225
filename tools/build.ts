// Builds the executables: tessera-cni is native (cni/shim/, gcc, static); the three daemons are one single-file
// Node executable, dist/bin/tessera, that dist/bin/tessera-agent, -watcher, -gateway and kubectl-tessera link
// to: one esbuild bundle (CJS) per daemon, each with its V8 code cache, embedded as SEA assets beside a small main
// (cmd/sea-main.ts) that runs the chosen one -> SEA blob -> postject, all with the Node runtime package.json pins
// (tools/runtime.ts), never the machine's own node. dist/bundle/ keeps the bundles (profiling).
import { build, type Plugin } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, chmodSync, existsSync, statSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { runtimeNode } from './runtime.js';
import { DAEMON_ENTRIES, DAEMON_NAMES, LINKED_DAEMONS, wrapBundle } from '../cmd/daemons.js';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const out = join(root, 'dist');
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const runtime = runtimeNode(root);

interface Target {
  name: string;
  entry: string;
  /** Files embedded as SEA assets (read with node:sea getAsset). */
  assets?: Record<string, string>;
}

/** The commands linked to the executable under their own names. */
export const targets: Target[] = LINKED_DAEMONS.map((name) => ({ name, entry: DAEMON_ENTRIES[name] }));
/** Every command the executable runs: each gets its own bundle. */
const commands: Target[] = DAEMON_NAMES.map((name) => ({ name, entry: DAEMON_ENTRIES[name] }));

/** The executable the daemons' names link to; its assets also get every bundle and code cache (sea-main.ts). */
export const MULTICALL: Target = { name: 'tessera', entry: 'cmd/sea-main.ts', assets: { 'koffi.node': 'node_modules/koffi/build/koffi/linux_x64/koffi.node' } };

// Optional native/peer modules that bundled libraries probe with try { require(x) } (ws, node-fetch).
// Inside a SEA such a require of a non-builtin prints a warning at every start; resolving them to a
// module that throws keeps the libraries' fallback path and the start-up quiet.
const OPTIONAL_MODULES = ['bufferutil', 'utf-8-validate', 'encoding'];
const absentOptionalModules: Plugin = {
  name: 'absent-optional-modules',
  setup(b) {
    const filter = new RegExp(`^(${OPTIONAL_MODULES.join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'absent' }));
    b.onLoad({ filter: /.*/, namespace: 'absent' }, (args) => ({
      contents: `const e = new Error("Cannot find module '${args.path}'"); e.code = 'MODULE_NOT_FOUND'; throw e;`,
      loader: 'js',
    }));
  },
};

async function bundleOne(t: Target): Promise<string> {
  const bundle = join(out, 'bundle', `${t.name}.cjs`);
  await build({
    entryPoints: [join(root, t.entry)],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: runtime.esbuildTarget,
    format: 'cjs',
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    define: { __TESSERA_VERSION__: JSON.stringify(pkg.version), 'import.meta.dirname': '__dirname', 'import.meta.url': '__tessera_import_meta_url' },
    banner: { js: 'const __tessera_import_meta_url = require("url").pathToFileURL(__filename).href;' },
    external: ['koffi'],
    plugins: [absentOptionalModules],
    logLevel: 'warning',
  });
  return bundle;
}

/**
 * The V8 code cache of a bundle as cmd/sea-main.ts compiles it, made by the runtime that embeds it (a cache from
 * another V8 is rejected, and the daemon then compiles from source).
 */
function codeCache(bundle: string): string {
  const cache = bundle.replace(/\.cjs$/, '.cache');
  const wrapped = `${bundle}.wrapped`;
  writeFileSync(wrapped, wrapBundle(readFileSync(bundle, 'latin1')), 'latin1');
  const make = 'const [src, out, name] = process.argv.slice(1); const fs = require("node:fs"); fs.writeFileSync(out, new (require("node:vm").Script)(fs.readFileSync(src, "latin1"), { filename: name }).createCachedData());';
  execFileSync(runtime.path, ['-e', make, wrapped, cache, basename(bundle)], { stdio: 'inherit' });
  rmSync(wrapped);
  return cache;
}

async function seaOne(t: Target, bundle: string): Promise<void> {
  const blob = join(out, 'bundle', `${t.name}.blob`);
  const seaConfig = join(out, 'bundle', `${t.name}.sea.json`);
  const assets: Record<string, string> = {};
  for (const [k, v] of Object.entries(t.assets ?? {})) assets[k] = resolve(root, v);
  writeFileSync(seaConfig, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets }));
  execFileSync(runtime.path, ['--experimental-sea-config', seaConfig], { stdio: 'inherit' });
  const exe = join(out, 'bin', t.name);
  // Build beside the target and rename over it: copying onto a running executable fails with ETXTBSY
  // (e.g. a lab's tessera-agent while `make lab` rebuilds), and readers never see a half-written binary.
  const tmp = `${exe}.tmp-${process.pid}`;
  copyFileSync(runtime.path, tmp);
  chmodSync(tmp, 0o755);
  execFileSync(runtime.path, [join(root, 'node_modules/postject/dist/cli.js'), tmp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { stdio: 'ignore' });
  renameSync(tmp, exe);
  process.stdout.write(`built ${exe} (${(statSync(exe).size / 1e6).toFixed(0)} MB, node ${runtime.version})\n`);
}

/**
 * tessera-cni: the forwarding shim in C, static so that it runs on any node whatever its libc. Start-up is
 * paid on every pod (cni/README.md "Why native").
 */
export const NATIVE_CNI = { name: 'tessera-cni', sources: ['cni/shim/main.c', 'cni/shim/json.c'] };

function buildNativeCni(): void {
  if (!/^[0-9A-Za-z.+-]+$/.test(pkg.version)) throw new Error(`package.json version ${JSON.stringify(pkg.version)} is not a plain version`);
  const exe = join(out, 'bin', NATIVE_CNI.name);
  const tmp = `${exe}.tmp-${process.pid}`; // renamed over the target, as for the SEA executables
  const args = ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-static', '-s', `-DTESSERA_VERSION="${pkg.version}"`, '-o', tmp, ...NATIVE_CNI.sources.map((f) => join(root, f))];
  try {
    execFileSync('gcc', args, { stdio: 'inherit' });
  } catch (e) {
    throw new Error(`building ${NATIVE_CNI.name} needs gcc and libc6-dev (tools/setup.sh installs them): ${(e as Error).message}`);
  }
  renameSync(tmp, exe);
  process.stdout.write(`built ${exe} (${(statSync(exe).size / 1e3).toFixed(0)} kB, static)\n`);
}

const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const sea = !process.argv.includes('--bundle-only');
mkdirSync(join(out, 'bin'), { recursive: true });
mkdirSync(join(out, 'bundle'), { recursive: true });
if (sea && (!only.length || only.includes(NATIVE_CNI.name))) buildNativeCni();
/** dist/bin/<daemon> -> tessera, replaced atomically (a running daemon keeps its executable). */
function linkDaemon(name: string): void {
  const tmp = join(out, 'bin', `${name}.tmp-${process.pid}`);
  rmSync(tmp, { force: true });
  symlinkSync(MULTICALL.name, tmp);
  renameSync(tmp, join(out, 'bin', name));
}

for (const t of [...commands, MULTICALL]) {
  if (!existsSync(join(root, t.entry))) throw new Error(`entry ${t.entry} missing`);
}
if (!only.length || only.some((n) => n === MULTICALL.name || targets.some((t) => t.name === n))) {
  for (const t of commands) {
    const bundle = await bundleOne(t);
    if (!sea) continue;
    MULTICALL.assets![`${t.name}.cjs`] = bundle;
    MULTICALL.assets![`${t.name}.cache`] = codeCache(bundle);
  }
  const bundle = await bundleOne(MULTICALL);
  if (sea) {
    await seaOne(MULTICALL, bundle);
    for (const t of targets) linkDaemon(t.name);
  }
}
