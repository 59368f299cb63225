// `make image`: the tessera/tessera:<version> OCI image, built offline from Debian packages and dist/bin.
// Layer 1 is a minimal Debian root filesystem (mmdebstrap, essential variant, plus tools/image-packages.txt),
// cached under .cache/image/ (or $TESSERA_IMAGE_CACHE, e.g. a CI cache) keyed on everything that goes into it;
// layer 2 is Tessera's executables in /usr/local/bin. The archive holds an OCI layout (index.json, for `ctr images import`) and a Docker
// manifest.json over the same blobs (for `docker load`). Prints the archive's path on its last line.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { imageArchivePath, imageRef, IMAGE_EXECUTABLES } from './image-names.js';

const root = resolve(import.meta.dirname, '..');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const SUITE = 'bookworm';
const BIN_DIR = '/usr/local/bin';

/** dpkg never unpacks these: documentation (copyright files stay), manuals, translations. */
const DPKG_EXCLUDES = [
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/locale/*',
  'path-exclude=/usr/share/lintian/*',
  'path-exclude=/usr/share/bash-completion/*',
];

/**
 * Installed only because apt takes init-system-helpers' first alternative (usrmerge | usr-is-merged): usrmerge
 * and all of perl beyond perl-base (~50 MB). usr-is-merged, in the package list, keeps the dependency satisfied.
 */
const ROOTFS_PURGE = ['usrmerge', 'libfile-find-rule-perl', 'libnumber-compare-perl', 'libtext-glob-perl', 'perl', 'perl-modules-5.36', 'libperl5.36'];

/**
 * Left behind by package installation, and wrong in an image: logs and caches, and state that must be each
 * node's own (the OVS database with its system-id, which ovs-ctl creates at first start).
 */
const ROOTFS_REMOVE = [
  'var/log', 'var/cache/debconf', 'var/lib/apt', 'var/cache/apt',
  'etc/openvswitch/conf.db', 'etc/openvswitch/.conf.db.~lock~', 'etc/openvswitch/system-id.conf',
];

function run(cmd: string, args: string[], opts: { quiet?: boolean } = {}): void {
  execFileSync(cmd, args, { stdio: opts.quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit' });
}

function packages(): string[] {
  return readFileSync(join(root, 'tools/image-packages.txt'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** The machine's apt sources, which mmdebstrap uses as its mirrors (no other download). */
function aptSources(): string[] {
  const dir = '/etc/apt/sources.list.d';
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.sources') || f.endsWith('.list')).map((f) => join(dir, f)) : [];
  if (existsSync('/etc/apt/sources.list') && statSync('/etc/apt/sources.list').size > 0) files.unshift('/etc/apt/sources.list');
  if (!files.length) throw new Error('no apt sources found in /etc/apt: mmdebstrap needs a Debian mirror');
  return files;
}

function slimRootfs(dir: string): void {
  run('dpkg', ['--root', dir, '--purge', ...ROOTFS_PURGE], { quiet: true });
  for (const p of ROOTFS_REMOVE) rmSync(join(dir, p), { recursive: true, force: true });
  mkdirSync(join(dir, 'var/log'), { recursive: true });
  // Python byte-code compiled at install time: only OVS's debugging helpers (ovs-tcpdump) run Python, compiling on use.
  execFileSync('find', [dir, '-depth', '-type', 'd', '-name', '__pycache__', '-exec', 'rm', '-rf', '{}', '+']);
  rmSync(join(dir, 'dev'), { recursive: true, force: true }); // the runtime mounts /dev
  mkdirSync(join(dir, 'dev'));
  writeFileSync(join(dir, 'etc/machine-id'), '');
}

/** The Debian layer as a tar, rebuilt only when its inputs change. */
function rootfsLayer(): string {
  const sources = aptSources();
  const pkgs = packages();
  const key = createHash('sha256')
    .update(JSON.stringify({ SUITE, pkgs, DPKG_EXCLUDES, ROOTFS_PURGE, ROOTFS_REMOVE, sources: sources.map((f) => readFileSync(f, 'utf8')) }))
    .digest('hex')
    .slice(0, 16);
  const cacheDir = process.env.TESSERA_IMAGE_CACHE ?? join(root, '.cache/image');
  const cached = join(cacheDir, `rootfs-${SUITE}-${key}.tar`);
  if (existsSync(cached)) {
    process.stdout.write(`image: Debian layer from cache (${cached})\n`);
    return cached;
  }
  mkdirSync(cacheDir, { recursive: true });
  const dir = join(cacheDir, `rootfs-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`image: building the Debian layer with mmdebstrap (${pkgs.join(' ')})\n`);
  try {
    run('mmdebstrap', [
      '--variant=essential', '--mode=root', '--format=directory', '--quiet',
      `--include=${pkgs.join(',')}`,
      ...DPKG_EXCLUDES.map((o) => `--dpkgopt=${o}`),
      SUITE, dir, ...sources,
    ]);
    slimRootfs(dir);
    const tmp = `${cached}.tmp-${process.pid}`;
    run('tar', ['--sort=name', '--numeric-owner', '--xattrs', '--xattrs-include=security.capability', '-C', dir, '-cf', tmp, '.']);
    renameSync(tmp, cached);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return cached;
}

interface OciIndex { manifests: Array<{ digest: string; annotations?: Record<string, string> }> }
interface OciManifest { config: { digest: string }; layers: Array<{ digest: string }> }

const blobPath = (digest: string): string => `blobs/${digest.replace(':', '/')}`;

/** Names the image for containerd (index annotation) and writes Docker's manifest.json over the OCI blobs. */
function nameImage(layout: string): void {
  const indexFile = join(layout, 'index.json');
  const index = JSON.parse(readFileSync(indexFile, 'utf8')) as OciIndex;
  if (index.manifests.length !== 1) throw new Error(`expected one manifest in ${indexFile}, found ${index.manifests.length}`);
  const m = index.manifests[0];
  m.annotations = { ...m.annotations, 'io.containerd.image.name': `docker.io/${imageRef(version)}`, 'org.opencontainers.image.ref.name': version };
  writeFileSync(indexFile, JSON.stringify(index));
  const manifest = JSON.parse(readFileSync(join(layout, blobPath(m.digest)), 'utf8')) as OciManifest;
  const dockerManifest = [{ Config: blobPath(manifest.config.digest), RepoTags: [imageRef(version)], Layers: manifest.layers.map((l) => blobPath(l.digest)) }];
  writeFileSync(join(layout, 'manifest.json'), JSON.stringify(dockerManifest));
}

function buildImage(): string {
  for (const exe of IMAGE_EXECUTABLES) {
    if (!existsSync(join(root, 'dist/bin', exe))) throw new Error(`dist/bin/${exe} is missing: run make build first`);
  }
  const rootfs = rootfsLayer();
  const work = join(root, 'dist/image');
  rmSync(work, { recursive: true, force: true });
  const layout = join(work, 'oci');
  const stage = join(work, 'bin');
  mkdirSync(stage, { recursive: true });
  for (const exe of IMAGE_EXECUTABLES) {
    const src = join(root, 'dist/bin', exe);
    // The daemons' names stay links to the one executable (tools/build.ts), or the image carries it thrice.
    if (lstatSync(src).isSymbolicLink()) symlinkSync(readlinkSync(src), join(stage, exe));
    else copyFileSync(src, join(stage, exe));
  }
  const ref = `${layout}:${version}`;
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', ref]);
  run('umoci', ['raw', 'add-layer', '--image', ref, '--history.created_by', `mmdebstrap --variant=essential ${SUITE} (tools/image-packages.txt)`, rootfs]);
  run('umoci', ['insert', '--image', ref, '--history.created_by', 'dist/bin (make build)', stage, BIN_DIR]);
  run('umoci', ['config', '--image', ref, '--no-history', '--os', 'linux', '--architecture', 'amd64',
    '--config.env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    '--config.label', `org.opencontainers.image.version=${version}`,
    '--config.label', 'org.opencontainers.image.title=tessera',
    '--config.cmd', 'tessera-agent', '--config.cmd', '--help']);
  run('umoci', ['gc', '--layout', layout]);
  nameImage(layout);
  const archive = imageArchivePath(root, version);
  const tmp = `${archive}.tmp-${process.pid}`;
  run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', layout, '-cf', tmp, 'oci-layout', 'index.json', 'manifest.json', 'blobs']);
  renameSync(tmp, archive);
  rmSync(work, { recursive: true, force: true });
  return archive;
}

const archive = buildImage();
process.stdout.write(`image: ${imageRef(version)}, ${(statSync(archive).size / 1e6).toFixed(1)} MB\n${archive}\n`);
