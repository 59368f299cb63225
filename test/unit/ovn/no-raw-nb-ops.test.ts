// Every NB write goes through lib/ovn (the one vocabulary, with one writer per row kind, lib/ovn/README.md): this
// scans the source tree for raw NB insert/update/mutate/delete operations anywhere else, so a change that adds
// one fails here. Tests and their fixtures may write NB directly; lib/ovsdb is the client the vocabulary uses.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { NB_MODEL } from '../../../lib/ovsdb/models/nb.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
/** Not scanned: the vocabulary itself, the OVSDB client, tests, generated and installed code. */
const SKIP = new Set(['lib/ovn', 'lib/ovsdb', 'test', 'node_modules', 'dist', '.tools', '.git', '.lab']);
/** Known writers outside lib/ovn, each with the reason it may stay; an entry whose file no longer writes NB must go. */
const ALLOWED: Record<string, string> = {
  'bench/ovsdb/main.ts': 'benchmarks the OVSDB client with raw transactions',
};

// Tables only NB has (SB and IC-NB share some names, e.g. Load_Balancer, which the generic patterns below cover).
const NB_TABLES = Object.keys(NB_MODEL.tables).join('|');
const PATTERNS: Array<[RegExp, string]> = [
  [new RegExp(`\\.(insert|update|mutate|delete)\\(\\s*['"](${NB_TABLES})['"]`), 'an insert/update/mutate/delete on an NB table'],
  [/\bop\(\s*NB_MODEL\s*\)/, 'an operation builder for the NB model'],
  [/\bop:\s*['"](insert|update|mutate|delete)['"]/, 'a literal OVSDB operation'],
];

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const rel = relative(ROOT, p);
    if (SKIP.has(rel) || e.startsWith('.')) continue;
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(e) && !e.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** `file:line: what` for every raw NB operation in the text. */
export function rawNbOps(file: string, text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (/^\s*(\/\/|\*)/.test(line)) return;
    for (const [re, what] of PATTERNS) if (re.test(line)) found.push(`${file}:${i + 1}: ${what}: ${line.trim()}`);
  });
  return found;
}

describe('NB writes only through lib/ovn', () => {
  it('the patterns catch raw NB operations and pass the vocabulary\'s calls', () => {
    assert.equal(rawNbOps('x.ts', "ops.push(nb.op.mutate('Logical_Router', [['_uuid', '==', u]], m));").length, 1);
    assert.equal(rawNbOps('x.ts', "batch.push(b.insert('NAT', { type: 'snat' }, n));").length, 1);
    assert.equal(rawNbOps('x.ts', 'const b = op(NB_MODEL);').length, 1);
    assert.equal(rawNbOps('x.ts', "this.ops.push({ op: 'delete', table, where });").length, 1);
    assert.deepEqual(rawNbOps('x.ts', "ensureRouterPort(txn, CLUSTER_ROUTER, { name: 'rtoj' });"), []);
    assert.deepEqual(rawNbOps('x.ts', "await ovs.transact([ovs.op.insert('Interface', { name })]);"), [], 'OVS tables are not NB');
  });

  it('no source file outside lib/ovn, lib/ovsdb and test/ builds one', () => {
    const files = sources(ROOT);
    assert.ok(files.includes('gateway/nb.ts') && files.includes('watcher/interconnect/teardown.ts'), 'the scan sees the writers');
    const found = files.filter((f) => !(f in ALLOWED)).flatMap((f) => rawNbOps(f, readFileSync(join(ROOT, f), 'utf8')));
    assert.deepEqual(found, [], `raw NB operations outside lib/ovn (compose lib/ovn operations instead):\n${found.join('\n')}`);
  });

  it('every allowed exception still needs its entry', () => {
    const stale = Object.keys(ALLOWED).filter((f) => !existsSync(join(ROOT, f)) || rawNbOps(f, readFileSync(join(ROOT, f), 'utf8')).length === 0);
    assert.deepEqual(stale, [], `these files no longer write NB directly: remove them from ALLOWED so they stay that way`);
  });
});
