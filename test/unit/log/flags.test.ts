// --log-level and --log-format: every daemon command takes them, json lines parse, levels filter.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ConfigError, helpText, parseCommand, type CommandSpec } from '../../../lib/cli.js';
import { createLogger } from '../../../lib/log.js';
import { applyLogFlags } from '../../../lib/log-settings.js';
import { WATCHER_SPEC } from '../../../watcher/config.js';
import { spec as AGENT_SPEC } from '../../../agent/config.js';
import { specs as GATEWAY_SPECS } from '../../../gateway/config.js';

const DAEMONS: Record<string, CommandSpec> = { watcher: WATCHER_SPEC, agent: AGENT_SPEC, ...Object.fromEntries(Object.entries(GATEWAY_SPECS).map(([k, s]) => [`gateway ${k}`, s])) };

/** Logs one line at each level through a logger configured by the flags; returns the lines written. */
async function logEachLevel(spec: CommandSpec, flags: string[]): Promise<string[]> {
  parseCommand(spec, flags);
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (d: Buffer) => (out += d.toString()));
  const log = createLogger('unit', { stream });
  log.debug('at debug', { n: 1 });
  log.info('at info', { n: 2 });
  log.warn('at warn', { n: 3 });
  log.error('at error', { n: 4, nested: { a: [1, 'x'] } });
  await new Promise((r) => setImmediate(r));
  return out.split('\n').filter(Boolean);
}

describe('log flags', () => {
  afterEach(() => applyLogFlags({}));

  it('every daemon command accepts --log-level and --log-format and lists them in --help', () => {
    for (const [name, spec] of Object.entries(DAEMONS)) {
      assert.doesNotThrow(() => parseCommand(spec, ['--log-level', 'debug', '--log-format', 'json']), name);
      assert.match(helpText(spec), /--log-level <value>\n.*error, warn, info, debug/, name);
      assert.match(helpText(spec), /--log-format <value>\n.*text or json.*\(default text\)/, name);
    }
  });

  it('json: every line is one JSON object with level, message, component, timestamp and the fields', async () => {
    const lines = await logEachLevel(AGENT_SPEC, ['--log-format', 'json', '--log-level', 'debug']);
    assert.equal(lines.length, 4);
    const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(objs.map((o) => o.level), ['debug', 'info', 'warn', 'error']);
    assert.deepEqual(objs.map((o) => o.message), ['at debug', 'at info', 'at warn', 'at error']);
    for (const o of objs) {
      assert.equal(o.component, 'unit');
      assert.ok(!Number.isNaN(Date.parse(String(o.timestamp))), `timestamp ${String(o.timestamp)}`);
    }
    assert.deepEqual(objs[3], { ...objs[3], n: 4, nested: { a: [1, 'x'] } });
  });

  it('levels filter: warn keeps warn and error, error keeps error, the default (info) drops debug', async () => {
    assert.deepEqual((await logEachLevel(WATCHER_SPEC, ['--log-format', 'json', '--log-level', 'warn'])).map((l) => (JSON.parse(l) as { level: string }).level), ['warn', 'error']);
    assert.deepEqual((await logEachLevel(WATCHER_SPEC, ['--log-format', 'json', '--log-level', 'error'])).map((l) => (JSON.parse(l) as { level: string }).level), ['error']);
    const text = await logEachLevel(GATEWAY_SPECS.run!, []);
    assert.equal(text.length, 3);
    assert.match(text[0], /^\S+ info \[unit\] at info \{"n":2\}$/, 'text is the default format');
  });

  it('the flag wins over $TESSERA_LOG_LEVEL, which still applies without it', async () => {
    const saved = process.env.TESSERA_LOG_LEVEL;
    process.env.TESSERA_LOG_LEVEL = 'error';
    try {
      assert.equal((await logEachLevel(AGENT_SPEC, [])).length, 1);
      assert.equal((await logEachLevel(AGENT_SPEC, ['--log-level', 'debug'])).length, 4);
    } finally {
      if (saved === undefined) delete process.env.TESSERA_LOG_LEVEL;
      else process.env.TESSERA_LOG_LEVEL = saved;
    }
  });

  it('a bad level or format is a one-line ConfigError naming the choices', () => {
    const oneLine = (re: RegExp) => (e: unknown) => e instanceof ConfigError && re.test(e.message) && !e.message.includes('\n');
    assert.throws(() => parseCommand(AGENT_SPEC, ['--log-level', 'verbose']), oneLine(/^--log-level "verbose" must be one of error, warn, info, debug$/));
    assert.throws(() => parseCommand(AGENT_SPEC, ['--log-format', 'yaml']), oneLine(/^--log-format "yaml" must be one of text, json$/));
  });
});
