// tessera-gateway entry point.
import { parseCommand, runMain, type CommandSpec } from '../lib/cli.js';

const spec: CommandSpec = {
  name: 'tessera-gateway',
  summary: 'placeholder until its issue lands',
  usage: 'tessera-gateway [flags]',
  flags: {},
};

runMain(spec.name, async () => {
  parseCommand(spec, process.argv.slice(2));
});
