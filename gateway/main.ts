// tessera-gateway: the node side of north-south traffic. Subcommands: nics-to-bridge, init, run, cleanup.
import { ConfigError, parseCommand, runMain } from '../lib/cli.js';
import { createLogger } from '../lib/log.js';
import { VERSION, versionLine } from '../lib/version.js';
import { ALL_GATEWAY_FLAGS, parseCommon, specs } from './config.js';
import { withConfigFile } from '../lib/config-file.js';
import { nicsToBridge, PlanStore, undoNicsToBridge } from './nics-to-bridge.js';
import { Ovs } from './ovs.js';

const NAME = 'tessera-gateway';

function overview(): string {
  return [
    `${NAME} ${VERSION}: gateway routers, shared-NIC bridging, SNAT and NodePort/LoadBalancer services for Tessera`,
    '',
    `Usage: ${NAME} <subcommand> [flags]   (${NAME} <subcommand> --help for its flags)`,
    '',
    'Subcommands:',
    ...Object.entries(specs).map(([k, s]) => `  ${k.padEnd(16)}${s.summary}`),
    '',
  ].join('\n');
}

runMain(NAME, async () => {
  const [sub, ...rest] = process.argv.slice(2);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(overview());
    if (sub === undefined) throw new ConfigError(`missing subcommand (one of ${Object.keys(specs).join(', ')})`);
    return;
  }
  if (sub === '--version') {
    process.stdout.write(versionLine(NAME));
    return;
  }
  const spec = specs[sub];
  if (!spec) throw new ConfigError(`unknown subcommand "${sub}" (one of ${Object.keys(specs).join(', ')})`);
  const parsed = parseCommand(spec, withConfigFile(spec, 'gateway', rest, ALL_GATEWAY_FLAGS));

  switch (sub) {
    case 'nics-to-bridge': {
      const [nic, extra] = parsed.positionals;
      if (nic === undefined || extra !== undefined) throw new ConfigError('nics-to-bridge takes exactly one NIC name');
      const cfg = parseCommon(parsed.values);
      const log = createLogger('gateway', cfg.logFile ? { file: cfg.logFile } : {});
      const ovs = new Ovs(cfg.ovs);
      const store = new PlanStore(cfg.stateDir);
      if (parsed.values.undo === true) await undoNicsToBridge(nic, ovs, store, log);
      else await nicsToBridge(nic, ovs, store, log);
      return;
    }
    default: {
      const { runSubcommand } = await import('./commands.js');
      await runSubcommand(sub, parsed);
    }
  }
});
