// Pods wired the way containerd does it: cnitool (libcni) run inside the node netns with a per-node conflist
// (tessera-cni, then the reference portmap plugin consuming our result) and containerd's CNI_ARGS.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.js';
import { CNITOOL } from './paths.js';
/** libcni 1.1 (cnitool) has no cache-dir setting: results land here, keyed "<network>-<containerId>-<ifname>". */
export const CNI_CACHE_RESULTS = '/var/lib/cni/results';

export interface NodeCniConfig {
  /** Directory holding the node's conflist (NETCONFPATH). */
  confDir: string;
  network: string;
  agentSocket: string;
}

/** Writes the node's conflist, as a cluster admin would drop it into /etc/cni/net.d. */
export function writeNodeConflist(o: { dir: string; network: string; agentSocket: string; logFile: string; mtu: number }): NodeCniConfig {
  const confDir = join(o.dir, 'net.d');
  mkdirSync(confDir, { recursive: true });
  const conflist = {
    cniVersion: '1.0.0',
    name: o.network,
    plugins: [
      { type: 'tessera-cni', agentSocket: o.agentSocket, logFile: o.logFile, mtu: o.mtu },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
  writeFileSync(join(confDir, '10-tessera.conflist'), JSON.stringify(conflist, null, 2) + '\n');
  return { confDir, network: o.network, agentSocket: o.agentSocket };
}

export interface CniResult {
  cniVersion: string;
  interfaces?: Array<{ name: string; mac?: string; sandbox?: string }>;
  ips?: Array<{ address: string; gateway?: string; interface?: number }>;
}

/** containerd's CNI_ARGS, in its order (IgnoreUnknown after the sandbox id and uid, as observed). */
export function containerdCniArgs(o: { sandboxId: string; uid: string; namespace: string; name: string }): string {
  return `K8S_POD_INFRA_CONTAINER_ID=${o.sandboxId};K8S_POD_UID=${o.uid};IgnoreUnknown=1;K8S_POD_NAMESPACE=${o.namespace};K8S_POD_NAME=${o.name}`;
}

/** `cnitool add|del|check <network> <netns path>` inside the node netns; ADD returns the parsed result. */
export async function cnitool(o: { verb: 'add' | 'del' | 'check'; nodeNetns: string; conf: NodeCniConfig; binDir: string; netnsPath: string; cniArgs: string; timeoutMs?: number }): Promise<CniResult | undefined> {
  const out = await run(CNITOOL, [o.verb, o.conf.network, o.netnsPath], {
    netns: o.nodeNetns,
    timeoutMs: o.timeoutMs ?? 60_000,
    env: { NETCONFPATH: o.conf.confDir, CNI_PATH: `${o.binDir}:/usr/lib/cni`, CNI_ARGS: o.cniArgs },
  });
  return o.verb === 'add' ? (JSON.parse(out) as CniResult) : undefined;
}
