// The Tessera daemons as steps: tessera-watcher in the central netns (it builds the NB topology and gives each node
// its subnet) and tessera-agent on every node (the CNI server that cnitool reaches through tessera-cni).
import { join } from 'node:path';
import { NODE_SUBNET_ANNOTATION } from '../lib/kube/annotations.js';
import { writeNodeConflist } from './cni.js';
import { alive } from './daemon.js';
import { nodePath, serviceAccountTokenFile } from './kube.js';
import { POD_MTU, need, type LabContext, type LabStep } from './lab-context.js';
import { SB_PORT } from './ovn-central.js';
import { AGENT_HEALTH_PORT, startAgent, startWatcher } from './tessera.js';
import { GiveUp, allSettledOrThrow, waitFor } from './wait.js';

/** tessera-watcher, up once it has annotated every Node with its subnet (recorded for lab.json). */
export const watcherStep: LabStep = {
  name: 'tessera-watcher',
  async run(c: LabContext): Promise<void> {
    const central = need(c.central, 'OVN central');
    const a = need(c.api, 'the Kubernetes API');
    const kube = need(c.kube, 'the Kubernetes API');
    c.log('tessera-watcher');
    // The SB port is a control endpoint too, though this watcher only talks to NB.
    c.launchWatcher = () => startWatcher({ binDir: c.binDir, dir: central.dir, netns: c.names.central, apiserverUrl: a.url, tokenFile: serviceAccountTokenFile(a, 'tessera-watcher'), nbRemotes: [central.nbRemote], cidrs: c.cidrs,
      tls: c.pki?.roles.watcher, extraArgs: ['--protected-endpoint', `${c.net.centralIp}:${SB_PORT}`,
        '--protected-node-port', String(AGENT_HEALTH_PORT), ...c.watcherArgs] });
    const watcherPid = c.launchWatcher();
    for (const n of c.nodeNames) {
      await waitFor(`tessera-watcher to annotate node ${n} with ${NODE_SUBNET_ANNOTATION}`, async () => {
        if (!alive(watcherPid)) throw new GiveUp(`tessera-watcher exited; see ${join(central.dir, 'tessera-watcher.log')}`);
        const s = (await kube.get(nodePath(n))).metadata.annotations?.[NODE_SUBNET_ANNOTATION];
        if (s) c.subnets.set(n, s);
        return s !== undefined;
      }, 30_000);
    }
  },
};

/** tessera-agent on every node, each with the conflist cnitool reads, up once it reports ready. */
export const agentsStep: LabStep = {
  name: 'tessera-agent',
  async run(c: LabContext): Promise<void> {
    const central = need(c.central, 'OVN central');
    const a = need(c.api, 'the Kubernetes API');
    c.log('tessera-agent on every node');
    await allSettledOrThrow(c.nodes.map(async (n) => {
      const agentSocket = join(n.dir, 'cni.sock');
      c.cniConf.set(n.name, writeNodeConflist({ dir: n.dir, network: c.names.cniNetwork, agentSocket, logFile: join(n.dir, 'tessera-cni.log'), mtu: POD_MTU }));
      await startAgent({ binDir: c.binDir, node: n.name, dir: n.dir, netns: n.netns, apiserverUrl: a.url, tokenFile: serviceAccountTokenFile(a, 'tessera-agent'),
        ovsDbSocket: n.dbSocket, cniSocket: agentSocket, mtu: POD_MTU, cidrs: c.cidrs, tls: c.pki?.roles.node });
    }));
  },
};
