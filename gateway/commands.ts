// init, run and cleanup: config → Gateway (loaded lazily by main.ts so nics-to-bridge stays light).
import { ConfigError, requireString, type ParsedCommand } from '../lib/cli.js';
import { loadKubeConfig } from '../lib/kube/client.js';
import { createLogger } from '../lib/log.js';
import { cleanup } from './cleanup.js';
import { parseCommon, parseGateway, parseNbRemotes } from './config.js';
import { Gateway } from './gateway.js';
import { connectNb } from './nb.js';
import { Ovs } from './ovs.js';
import { runGateway } from './run.js';

function parseHostPort(flag: string, s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  const port = Number(s.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--${flag} "${s}": expected host:port`);
  return { host: s.slice(0, i), port };
}

export async function runSubcommand(sub: string, parsed: ParsedCommand): Promise<void> {
  const v = parsed.values;
  switch (sub) {
    case 'init': {
      const cfg = parseGateway(v);
      const log = createLogger('gateway', cfg.logFile ? { file: cfg.logFile } : {});
      const nb = await connectNb(cfg.nbRemotes, log, cfg.tls);
      try {
        await new Gateway(cfg, nb, log).init({ patchWaitMs: 15_000 });
        log.info(`gateway ${cfg.node} initialised (${cfg.mode} NIC, bridge ${cfg.bridge})`);
      } finally {
        nb.close();
      }
      return;
    }
    case 'run': {
      const cfg = parseGateway(v);
      const resync = Number(requireString(v, 'resync-seconds'));
      if (!Number.isFinite(resync) || resync < 1) throw new ConfigError(`--resync-seconds "${String(v['resync-seconds'])}": expected a number >= 1`);
      const flowCheck = Number(requireString(v, 'flow-check-seconds'));
      if (!Number.isFinite(flowCheck) || flowCheck < 1) throw new ConfigError(`--flow-check-seconds "${String(v['flow-check-seconds'])}": expected a number >= 1`);
      const access = {
        ...(typeof v['kube-api'] === 'string' ? { server: v['kube-api'] } : {}),
        ...(typeof v['kube-token-file'] === 'string' ? { tokenFile: v['kube-token-file'] } : {}),
        ...(typeof v.kubeconfig === 'string' ? { kubeconfig: v.kubeconfig } : {}),
      };
      loadKubeConfig(access); // refuse bad API flags before touching anything
      const health = typeof v['health-listen'] === 'string' ? parseHostPort('health-listen', v['health-listen']) : undefined;
      const log = createLogger('gateway', cfg.logFile ? { file: cfg.logFile } : {});
      await runGateway(cfg, access, { resyncMs: resync * 1000, flowCheckMs: flowCheck * 1000, ...(health ? { health } : {}) }, log);
      return;
    }
    case 'cleanup': {
      const common = parseCommon(v);
      const node = requireString(v, 'node-name');
      const log = createLogger('gateway', common.logFile ? { file: common.logFile } : {});
      const nb = typeof v.nb === 'string' ? await connectNb(parseNbRemotes(v.nb), log, common.tls) : undefined;
      try {
        await cleanup({ node, stateDir: common.stateDir, ovs: new Ovs(common.ovs), log, ...(nb ? { nb } : {}) });
      } finally {
        nb?.close();
      }
      return;
    }
    default:
      throw new ConfigError(`unknown subcommand "${sub}"`);
  }
}
