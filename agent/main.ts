// tessera-agent entry point.
import { parseCommand, runMain, type CommandSpec } from '../lib/cli.js';

const spec: CommandSpec = {
  name: 'tessera-agent',
  summary: 'placeholder until its issue lands',
  usage: 'tessera-agent [flags]',
  flags: {},
};

runMain(spec.name, async () => {
  parseCommand(spec, process.argv.slice(2));
});
