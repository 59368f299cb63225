// Folders depend one way: the components (agent, watcher, gateway, cni) on lib/; the API test double on lib/ (and deploy/crds/);
// lab/ on the components and the double; testkit/ (fixtures tests and benches share) on those and lab/; bench/ on
// anything but test/; test/ on anything. This reads every TypeScript file's imports, and the repo paths it names in
// string literals (a daemon spawned from a file, a fixture read at run time), and fails on a wrong-way dependency.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../..');
const COMPONENTS = ['agent', 'watcher', 'gateway', 'cni'];

/** Top-level folder -> the other top-level folders its code may depend on. */
export const MAY_DEPEND_ON: Record<string, readonly string[]> = {
  lib: [],
  ...Object.fromEntries(COMPONENTS.map((c) => [c, ['lib']])),
  // cni/'s TypeScript is the CNI plugin's logic, which runs inside the agent (cni/README.md); the shim is C.
  agent: ['lib', 'cni'],
  // The double serves the kubeovn.io kinds with the schema of their CRD manifests in deploy/crds/ (crds.ts).
  'kube-double': ['lib', 'deploy'],
  lab: ['lib', ...COMPONENTS, 'kube-double', 'deploy'],
  testkit: ['lib', ...COMPONENTS, 'kube-double', 'lab', 'deploy'],
  // bench/agent builds a reference executable of an older commit with that commit's tools/build.ts.
  bench: ['lib', ...COMPONENTS, 'kube-double', 'lab', 'testkit', 'deploy', 'tools'],
  openstack: ['lib'],
  // kubectl-tessera reads the lab's description (lab.json's types) to find the lab's endpoints.
  'kubectl-tessera': ['lib', 'lab'],
  // cmd/tessera.ts is the one executable that runs each daemon.
  cmd: ['lib', ...COMPONENTS, 'openstack', 'kubectl-tessera'],
  // tools/build.ts builds the components' executables.
  tools: ['lib', ...COMPONENTS, 'cmd', 'openstack', 'kubectl-tessera'],
  test: ['lib', ...COMPONENTS, 'cmd', 'openstack', 'kubectl-tessera', 'kube-double', 'lab', 'testkit', 'bench', 'tools', 'deploy'],
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(p);
    return /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const topFolder = (root: string, path: string): string => relative(root, path).split(sep)[0] ?? '';

/** Repo paths a file names: its relative imports, and string literals (or join()'s literal arguments) that exist in the repo. */
function namedPaths(root: string, file: string): Array<{ path: string; how: string }> {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
  const out: Array<{ path: string; how: string }> = [];
  const underRoot = (literal: string): string | undefined => {
    const p = join(root, literal);
    return /^[a-z][\w.-]*\//.test(literal) && (existsSync(p) || existsSync(p.replace(/\.js$/, '.ts'))) ? p : undefined;
  };
  const visit = (node: ts.Node): void => {
    const spec = ts.isImportDeclaration(node) || ts.isExportDeclaration(node) ? node.moduleSpecifier
      : ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword ? node.arguments[0] : undefined;
    if (spec && ts.isStringLiteral(spec)) {
      if (spec.text.startsWith('.')) out.push({ path: resolve(dirname(file), spec.text), how: `imports ${spec.text}` });
    } else if (ts.isCallExpression(node)) {
      const literals = node.arguments.filter(ts.isStringLiteralLike).map((a) => a.text);
      const p = literals.length > 1 ? underRoot(literals.join('/')) : undefined;
      if (p) out.push({ path: p, how: `names ${literals.join('/')}` });
    } else if (ts.isStringLiteralLike(node)) {
      const p = underRoot(node.text);
      if (p) out.push({ path: p, how: `names ${node.text}` });
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return out;
}

/** Every wrong-way dependency under `root`, as "<file> <imports|names> <path> (<from> may not depend on <to>)". */
export function wrongWayDependencies(root: string): string[] {
  const out: string[] = [];
  for (const [from, allowed] of Object.entries(MAY_DEPEND_ON)) {
    if (!existsSync(join(root, from))) continue;
    for (const file of tsFiles(join(root, from))) {
      for (const { path, how } of namedPaths(root, file)) {
        const to = topFolder(root, path);
        if (to === from || to.startsWith('..') || !(to in MAY_DEPEND_ON || to === 'deploy')) continue;
        if (!allowed.includes(to)) out.push(`${relative(root, file)} ${how} (${from}/ may not depend on ${to}/)`);
      }
    }
  }
  return out;
}


describe('folder dependencies', () => {
  it('go one way: components on lib/, lab/ on components and the double, bench/ not on test/', () => {
    assert.deepEqual(wrongWayDependencies(ROOT), []);
  });

  it('are caught when an import, a spawned file or a join() path goes the wrong way', () => {
    const root = mkdtempSync(join(tmpdir(), 'tessera-folders-'));
    try {
      const write = (p: string, text: string): void => {
        mkdirSync(dirname(join(root, p)), { recursive: true });
        writeFileSync(join(root, p), text);
      };
      write('lib/a.ts', 'export const a = 1;\n');
      write('test/apiserver/main.ts', 'export {};\n');
      write('test/fixtures/seed.yaml', 'x: 1\n');
      write('watcher/w.ts', "import { a } from '../lib/a.js';\nexport const w = a;\n");
      write('agent/x.ts', "import { w } from '../watcher/w.js';\nexport const x = w;\n");
      write('lab/kube.ts', "import { join } from 'node:path';\nconst repo = '/r';\nexport const m = join(repo, 'test', 'apiserver', 'main.ts');\n");
      write('bench/b.ts', "export const s = 'test/fixtures/seed.yaml';\nexport const t = import('../test/apiserver/main.js');\n");
      write('test/t.ts', "import { x } from '../agent/x.js';\nexport const y = x;\n");
      assert.deepEqual(wrongWayDependencies(root).sort(), [
        'agent/x.ts imports ../watcher/w.js (agent/ may not depend on watcher/)',
        'bench/b.ts imports ../test/apiserver/main.js (bench/ may not depend on test/)',
        'bench/b.ts names test/fixtures/seed.yaml (bench/ may not depend on test/)',
        'lab/kube.ts names test/apiserver/main.ts (lab/ may not depend on test/)',
      ].sort());
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
