import assert from 'node:assert/strict';
import { ConfigError, parseCommand } from '../../lib/cli.js';
import { WATCHER_SPEC, loadConfig } from '../../watcher/config.js';
import { parseConfig as parseAgentConfig, spec as AGENT_SPEC } from '../../agent/config.js';
import { specs as GATEWAY_SPECS } from '../../gateway/config.js';

const oneLine = (re: RegExp) => (e: unknown) => e instanceof ConfigError && re.test(e.message) && !e.message.includes('\n');

describe('flags: no token on the command line', () => {
  const specs = { watcher: WATCHER_SPEC, agent: AGENT_SPEC, 'gateway run': GATEWAY_SPECS.run };

  it('every daemon refuses --kube-token (either spelling) with one line pointing to --kube-token-file', () => {
    for (const [name, spec] of Object.entries(specs)) {
      for (const argv of [['--kube-api', 'http://x:1', '--kube-token', 's3cret'], ['--kube-token=s3cret']]) {
        assert.throws(() => parseCommand(spec, argv), oneLine(/^--kube-token is not accepted .*--kube-token-file PATH$/), `${name} ${argv.join(' ')}`);
      }
      assert.ok(spec.flags['kube-token-file'], `${name} takes --kube-token-file`);
      assert.equal(spec.flags['kube-token'], undefined, `${name} has no --kube-token`);
    }
  });

  it('the token file path reaches each config', () => {
    const w = loadConfig(parseCommand(WATCHER_SPEC, ['--nb', 'unix:/nb', '--kube-api', 'http://x:1', '--kube-token-file', '/run/t']));
    assert.equal(w.kubeTokenFile, '/run/t');
    const a = parseAgentConfig(['--node-name', 'n1', '--kube-api', 'http://x:1', '--kube-token-file', '/run/t']);
    assert.equal(a.kubeTokenFile, '/run/t');
    const g = parseCommand(GATEWAY_SPECS.run, ['--kube-token-file', '/run/t']);
    assert.equal(g.values['kube-token-file'], '/run/t');
  });

  it('after --, a --kube-token is a positional, not a flag', () => {
    assert.deepEqual(parseCommand(WATCHER_SPEC, ['--', '--kube-token']).positionals, ['--kube-token']);
  });
});
