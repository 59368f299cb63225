// Turns on the Neutron pod-port mode in a watcher process (watcher/main.ts calls it when --neutron-secret is given).
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Watcher } from '../watcher.js';
import type { NeutronPortsConfig } from './config.js';
import { NeutronPortController } from './controller.js';
import { NeutronSource, secretReader } from './source.js';

export function useNeutronPorts(watcher: Watcher, cfg: NeutronPortsConfig, core: CoreV1Api): NeutronPortController {
  const c = new NeutronPortController(watcher.ctx, cfg, new NeutronSource(secretReader(core, cfg.secret)));
  watcher.useNeutronPorts(c);
  watcher.ctx.log.info(`Neutron pod ports: Secret ${cfg.secret.namespace}/${cfg.secret.name}, network ${cfg.networkId}, subnet ${cfg.subnetId}, cluster tag ${cfg.cluster}`);
  return c;
}
