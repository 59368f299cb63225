// --config FILE: the schema refuses what no daemon could use, the file's values reach each daemon's own parser as
// flags, and a flag on the command line wins over the file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseCommand } from '../../lib/cli.js';
import { parseConfigFile, withConfigFile } from '../../lib/config-file.js';
import { WATCHER_SPEC, loadConfig } from '../../watcher/config.js';
import { parseConfig, spec as AGENT_SPEC } from '../../agent/config.js';
import { ALL_GATEWAY_FLAGS, parseGateway, specs as GATEWAY_SPECS } from '../../gateway/config.js';

describe('--config file', () => {
  let dir: string;
  let file: string;
  const write = (doc: unknown): string => {
    writeFileSync(file, JSON.stringify(doc));
    return file;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
    file = join(dir, 'tessera.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const cluster = { clusterCIDR: '10.128.0.0/14', serviceCIDR: '172.30.0.0/16', joinCIDR: '100.65.0.0/16', nodeSubnetPrefix: 23, mtu: 1450 };

  it('gives the watcher, the agent and the gateway the same cluster settings under their own flag names', () => {
    write({ cluster, ovn: { nb: 'tcp:192.0.2.10:6641', sb: 'tcp:192.0.2.10:6642' } });
    const w = loadConfig(parseCommand(WATCHER_SPEC, withConfigFile(WATCHER_SPEC, 'watcher', ['--config', file, '--kube-api', 'http://127.0.0.1:1'])));
    assert.equal(`${w.clusterCidr.prefix}`, '14');
    assert.equal(w.nodeSubnetPrefix, 23);
    assert.deepEqual(w.nbRemotes, ['tcp:192.0.2.10:6641']);
    assert.deepEqual(w.sbRemotes, ['tcp:192.0.2.10:6642']);
    const a = parseConfig(withConfigFile(AGENT_SPEC, 'agent', [`--config=${file}`, '--node-name', 'n1']));
    assert.equal(a.mtu, 1450);
    assert.equal(a.clusterCidr, '10.128.0.0/14');
    assert.equal(a.serviceCidr, '172.30.0.0/16');
    const run = GATEWAY_SPECS.run;
    const g = parseGateway(parseCommand(run, withConfigFile(run, 'gateway', ['--config', file, '--node-name', 'n1', '--bridge-interface', 'breth0',
      '--physical-ip', '192.0.2.21/24', '--default-gw', '192.0.2.1'], ALL_GATEWAY_FLAGS)).values);
    assert.equal(g.clusterSubnet, '10.128.0.0/14');
    assert.equal(g.joinCidr, '100.65.0.0/16');
    assert.deepEqual(g.nbRemotes, ['tcp:192.0.2.10:6641']);
  });

  it('lets a command-line flag override the file, repeatable flags included', () => {
    write({ cluster, ovn: { nb: 'tcp:192.0.2.10:6641' }, watcher: { 'protected-node-port': ['9476', '9478'], workers: '8' } });
    const argv = withConfigFile(WATCHER_SPEC, 'watcher', ['--config', file, '--cluster-cidr=10.244.0.0/16', '--protected-node-port', '1234', '--kube-api', 'http://x:1']);
    const w = loadConfig(parseCommand(WATCHER_SPEC, argv));
    assert.equal(w.clusterCidr.prefix, 16);
    assert.deepEqual(w.protectedNodePorts, [1234]);
    assert.equal(w.workers, 8);
  });

  it('refuses a file the schema rejects, naming the key', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ cluster: { mtu: 100 } }, /cluster\.mtu must be >= 576/],
      [{ cluster: { clusterCidr: '10.0.0.0/8' } }, /cluster: unknown key "clusterCidr"/],
      [{ ovn: { nb: 'http://x' } }, /ovn\.nb must match pattern/],
      [{ ovsdbTls: { privateKey: '/k' } }, /ovsdbTls must have required property 'certificate'/],
      [{ agent: { mtu: true } }, /agent\.mtu needs a value/],
      [{ agent: { 'no-such-flag': '1' } }, /agent\.no-such-flag is not a flag of tessera-agent/],
    ];
    for (const [doc, re] of bad) {
      assert.throws(() => withConfigFile(AGENT_SPEC, 'agent', ['--config', write(doc), '--node-name', 'n1']), (e: Error) => e instanceof ConfigError && re.test(e.message), JSON.stringify(doc));
    }
    assert.throws(() => parseConfigFile('{', 'x.json'), /--config x.json: not JSON/);
    assert.throws(() => withConfigFile(AGENT_SPEC, 'agent', ['--config', join(dir, 'absent.json')]), /cannot read \(ENOENT\)/);
  });

  it('takes --log-level and --log-format, which every daemon has, from a daemon section', () => {
    write({ agent: { 'log-level': 'debug', 'log-format': 'json' }, gateway: { 'log-level': 'warn' } });
    const argv = withConfigFile(AGENT_SPEC, 'agent', ['--config', file, '--node-name', 'n1']);
    assert.deepEqual(argv.slice(0, 2), ['--log-level=debug', '--log-format=json']);
    assert.ok(withConfigFile(GATEWAY_SPECS.cleanup, 'gateway', ['--config', file], ALL_GATEWAY_FLAGS).includes('--log-level=warn'));
  });

  it('takes a gateway section flag only in the subcommands that have it', () => {
    write({ gateway: { 'health-listen': '0.0.0.0:9478' } });
    assert.ok(withConfigFile(GATEWAY_SPECS.run, 'gateway', ['--config', file], ALL_GATEWAY_FLAGS).includes('--health-listen=0.0.0.0:9478'));
    assert.ok(!withConfigFile(GATEWAY_SPECS.cleanup, 'gateway', ['--config', file], ALL_GATEWAY_FLAGS).some((a) => a.startsWith('--health-listen')));
  });
});
