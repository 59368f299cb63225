import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { loadYaml, type V1ConfigMap } from '@kubernetes/client-node';
import { parseIcConfig, icRemotes, fingerprint, fromFingerprint, describeChange, type IcConfig } from '../../../watcher/interconnect/config.js';

const seed = (name: string): V1ConfigMap => loadYaml<V1ConfigMap>(readFileSync(new URL(`../../../deploy/interconnect/seeds/${name}`, import.meta.url), 'utf8'));

function expectConfig(data: Record<string, string>): IcConfig {
  const p = parseIcConfig(data);
  if (!p.ok) throw new Error(`unexpected errors: ${p.errors.join('; ')}`);
  if (!p.config.enabled) throw new Error('expected enabled');
  return p.config;
}
function expectErrors(data: Record<string, string>): string[] {
  const p = parseIcConfig(data);
  assert.equal(p.ok, false, 'expected the config to be refused');
  return p.ok ? [] : p.errors;
}

describe('interconnect config (ovn-ic-config ConfigMap)', () => {
  it('accepts the seed document\'s auto-route ConfigMap unchanged', () => {
    const cm = seed('seed-auto-route.yaml');
    assert.equal(cm.metadata?.name, 'ovn-ic-config');
    assert.equal(cm.metadata?.namespace, 'kube-system');
    const c = expectConfig(cm.data!);
    assert.deepEqual(c, { enabled: true, azName: 'az1', icDbHosts: ['192.168.65.3'], icNbPort: 6645, icSbPort: 6646, gwNodes: ['az1-gw'], autoRoute: true, tsName: 'ts' });
    assert.deepEqual(icRemotes(c), { nb: ['tcp:192.168.65.3:6645'], sb: ['tcp:192.168.65.3:6646'] });
  });

  it('accepts the manual-route and the Raft ConfigMaps', () => {
    assert.equal(expectConfig(seed('seed-manual-route.yaml').data!).autoRoute, false);
    const raft = expectConfig(seed('seed-raft.yaml').data!);
    assert.deepEqual(icRemotes(raft).nb, ['tcp:192.168.65.3:6645', 'tcp:192.168.65.2:6645', 'tcp:192.168.65.1:6645']);
    assert.deepEqual(icRemotes(raft).sb, ['tcp:192.168.65.3:6646', 'tcp:192.168.65.2:6646', 'tcp:192.168.65.1:6646']);
  });

  it('applies the documented defaults: ports 6645/6646, auto-route off', () => {
    const c = expectConfig({ 'enable-ic': 'true', 'az-name': 'az9', 'ic-db-host': 'icdb.example.org', 'gw-nodes': 'n1, n2' });
    assert.equal(c.icNbPort, 6645);
    assert.equal(c.icSbPort, 6646);
    assert.equal(c.autoRoute, false);
    assert.deepEqual(c.gwNodes, ['n1', 'n2'], 'gw-nodes keep the given order (HA priority) and lose spaces');
  });

  it('brackets IPv6 hosts in the remotes', () => {
    const c = expectConfig({ 'enable-ic': 'true', 'az-name': 'a', 'ic-db-host': 'fd00::5,[fd00::6],fd00::7', 'gw-nodes': 'n1' });
    assert.deepEqual(icRemotes(c).nb, ['tcp:[fd00::5]:6645', 'tcp:[fd00::6]:6645', 'tcp:[fd00::7]:6645']);
  });

  it('enable-ic "false" is a valid, disabled config that needs nothing else', () => {
    const p = parseIcConfig({ 'enable-ic': 'false' });
    assert.ok(p.ok && !p.config.enabled);
  });

  it('names the key in every error', () => {
    assert.match(expectErrors({})[0], /^enable-ic is required/);
    assert.match(expectErrors({ 'enable-ic': 'yes' })[0], /^enable-ic: "yes" is not "true" or "false"/);
    const errs = expectErrors({ 'enable-ic': 'true', 'az-name': 'bad name!', 'ic-db-host': '192.168.65.3:6645', 'ic-nb-port': '70000', 'ic-sb-port': 'x', 'gw-nodes': 'GW_1', 'auto-route': 'maybe' });
    const keys = errs.map((e) => e.split(/[: ]/)[0]);
    assert.deepEqual(keys.sort(), ['auto-route', 'az-name', 'gw-nodes', 'ic-db-host', 'ic-nb-port', 'ic-sb-port']);
    assert.ok(errs.some((e) => e.includes('ports go in ic-nb-port')), errs.join('\n'));
  });

  it('refuses missing required keys, empty list entries, duplicates, a bad IPv4 and equal ports', () => {
    assert.deepEqual(expectErrors({ 'enable-ic': 'true' }).map((e) => e.split(' ')[0]), ['az-name', 'ic-db-host', 'gw-nodes']);
    assert.match(expectErrors({ 'enable-ic': 'true', 'az-name': 'a', 'ic-db-host': '10.0.0.1,,10.0.0.2', 'gw-nodes': 'n' })[0], /ic-db-host: empty entry/);
    assert.match(expectErrors({ 'enable-ic': 'true', 'az-name': 'a', 'ic-db-host': '10.0.0.1', 'gw-nodes': 'n,n' })[0], /gw-nodes: "n" is listed twice/);
    assert.match(expectErrors({ 'enable-ic': 'true', 'az-name': 'a', 'ic-db-host': '10.0.0.300', 'gw-nodes': 'n' })[0], /ic-db-host: "10.0.0.300" is not a valid IPv4/);
    assert.match(expectErrors({ 'enable-ic': 'true', 'az-name': 'a', 'ic-db-host': 'h', 'gw-nodes': 'n', 'ic-nb-port': '7000', 'ic-sb-port': '7000' })[0], /must differ/);
  });

  it('warns about unknown keys and 2-member Raft, without refusing', () => {
    const p = parseIcConfig({ 'enable-ic': 'true', 'az-name': 'a', 'ic-db-host': '10.0.0.1,10.0.0.2', 'gw-nodes': 'n', 'auto-routes': 'true' });
    assert.ok(p.ok);
    assert.equal(p.warnings.length, 2);
    assert.match(p.warnings.join(' '), /unknown key "auto-routes"/);
  });

  it('round-trips the applied config through its fingerprint and describes changes per key', () => {
    const c = expectConfig(seed('seed-raft.yaml').data!);
    assert.deepEqual(fromFingerprint(fingerprint(c)), c);
    assert.equal(fromFingerprint('not json'), undefined);
    const changed = { ...c, gwNodes: ['az1-gw', 'az1-gw2'], autoRoute: false };
    assert.equal(describeChange(c, changed), 'gw-nodes: "az1-gw" -> "az1-gw,az1-gw2", auto-route: "true" -> "false"');
    assert.equal(describeChange(c, { enabled: false }), 'enable-ic: true -> false');
  });

  it('ts-name picks the transit switch: "ts" by default and in every seed, recorded in the fingerprint only when set', () => {
    for (const f of ['seed-auto-route.yaml', 'seed-manual-route.yaml', 'seed-raft.yaml']) assert.equal(expectConfig(seed(f).data!).tsName, 'ts', f);
    const c = expectConfig(seed('seed-auto-route.yaml').data!);
    // A config applied before ts-name existed keeps its fingerprint, so a watcher upgrade changes nothing.
    assert.equal(fingerprint(c), '{"az":"az1","hosts":["192.168.65.3"],"nb":6645,"sb":6646,"gw":["az1-gw"],"auto":true}');
    assert.equal(fromFingerprint(fingerprint(c))!.tsName, 'ts');
    const b = expectConfig({ ...seed('seed-auto-route.yaml').data!, 'ts-name': ' ts-b ' });
    assert.equal(b.tsName, 'ts-b');
    assert.deepEqual(fromFingerprint(fingerprint(b)), b);
    assert.equal(describeChange(c, b), 'ts-name: "ts" -> "ts-b"');
    assert.deepEqual(parseIcConfig({ ...seed('seed-auto-route.yaml').data!, 'ts-name': 'ts-b' }).warnings, [], 'ts-name is a known key');
    assert.match(expectErrors({ ...seed('seed-auto-route.yaml').data!, 'ts-name': 'ts b' })[0], /^ts-name: "ts b" must be/);
  });
});
